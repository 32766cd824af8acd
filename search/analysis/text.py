"""Analysis: how text becomes index terms.

Parts:
- ``STOP_WORDS``: the Snowball English stop-word list, shipped here because NLTK's copy needs a
  data download that newsearch never attempts; ``is_stop_word``. Stop words are indexed (left
  unstemmed, at their true positions, so "bank of japan" is not "bank in japan" and a query of
  stop words only is answered), but they add nothing to a field's length and the query
  language leaves them out of a query that has other words (``query.language``), so they
  never dominate an ordinary query.
- ``snowball_stem``: NLTK's Snowball (English) stemmer behind a large cache, which an index's
  stem file fills (``add_stem_source``): a search whose words the index has seen never imports
  NLTK. ``known_stems`` / ``remember_stems``: what a writer puts in that file.
  ``content_stem``: the term of a word that is not a stop word, its stem marked when it is
  spelled like a stop word ("owned" is ``own_``; the stop word "own" is ``own``).
- ``text_analyzer()``: tokenize, lower-case, fold accents, stem all but stop words. Used for the
  title, description, body and tags fields, and for every query against them.
  ``NormalizeFilter`` does the middle three steps in one pass; ``ProseAnalyzer`` runs the
  whole chain as one loop when nothing asks for character offsets (indexing does not), and
  gives indexing each term's positions directly (``word_positions``).
- ``spelling_words()``: the unstemmed words of a text that spelling suggestions draw on.
- ``label_analyzer()``: splits a source URL or a category into lower-cased words, unstemmed, so
  ``source:foxnews`` and ``category:politics`` match without typing the whole value.

Whatever analyzes documents must analyze queries: the schema pickles these analyzers into the
index, so queries always go through the same chain.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Container, Iterable, Iterator, Mapping
from functools import lru_cache
from typing import Any

from whoosh.analysis import (
    Analyzer,
    CharsetFilter,
    CompositeAnalyzer,
    Filter,
    LowercaseFilter,
    RegexTokenizer,
    StemFilter,
    Token,
)
from whoosh.support.charset import accent_map

# The Snowball project's English stop-word list (the same words NLTK's "stopwords" corpus has).
STOP_WORDS: frozenset[str] = frozenset(
    """
    i me my myself we our ours ourselves you your yours yourself yourselves he him his himself
    she her hers herself it its itself they them their theirs themselves what which who whom
    this that these those am is are was were be been being have has had having do does did
    doing would should could ought i'm you're he's she's it's we're they're i've you've we've
    they've i'd you'd he'd she'd we'd they'd i'll you'll he'll she'll we'll they'll isn't
    aren't wasn't weren't hasn't haven't hadn't doesn't don't didn't won't wouldn't shan't
    shouldn't can't cannot couldn't mustn't let's that's who's what's here's there's when's
    where's why's how's a an the and but if or because as until while of at by for with about
    against between into through during before after above below to from up down in out on off
    over under again further then once here there when where why how all any both each few
    more most other some such no nor not only own same so than too very
    """.split()
)


def is_stop_word(term: str) -> bool:
    """Whether an index term of a prose field is a stop word (kept unstemmed, so the word itself)."""
    return term in STOP_WORDS


# Words are runs of letters and digits; inner dots ("3.5") and apostrophes ("mayor's", "don't")
# stay inside the word so the stemmer and the stop list see the whole word.
WORD_PATTERN = r"\w+(?:[.'\u2019]\w+)*"

# Accent folding, plus the typographic apostrophe news copy uses, so "Mamdani’s" == "Mamdani's".
FOLD_MAP: dict[int, str] = {**accent_map, 0x2019: "'"}

# The cache is what makes NLTK's pure-Python stemmer usable: news vocabulary repeats heavily.
STEM_CACHE_SIZE = 500_000
# Distinct word forms (case included) whose terms ``ProseAnalyzer.word_positions`` remembers;
# the cache starts again when full. Reuters has about 70,000.
WORD_CACHE_SIZE = 500_000
_UNSEEN: Any = object()  # a word not in the cache yet


@lru_cache(maxsize=None)
def _english_stemmer() -> Any:
    # Imported on first use: importing NLTK takes about half a second, which commands that stem
    # nothing (an update with no new articles, stats) need not pay.
    from nltk.stem.snowball import SnowballStemmer
    return SnowballStemmer("english")


# Word -> stem: read from indexes' stem files, given by workers, or stemmed here. Importing NLTK
# was half of a command-line search (0.14 of 0.32 s on Reuters); a word in here needs no NLTK.
_stems: dict[str, str] = {}
# Loaders of stem files not read yet, by file: read on the first word not already known.
_sources: dict[str, Callable[[], Mapping[str, str]]] = {}


# A letter, or an apostrophe (NLTK reads the typographic ones as one): Snowball's rules change
# nothing else, so a number or a symbol ("1987", "*") is its own stem without asking NLTK.
_STEMMABLE = re.compile(r"[^\W\d_]|['\u2018\u2019\u201b]").search


def snowball_stem(word: str) -> str:
    """Return the Snowball (English) stem of a lower-cased word."""
    if not _STEMMABLE(word):
        return word
    stem = _stems.get(word)
    while stem is None and _sources:
        try:
            _name, load = _sources.popitem()
        except KeyError:  # another thread took the last one
            break
        _stems.update(load())
        stem = _stems.get(word)
    if stem is None:
        stem = str(_english_stemmer().stem(word))
        remember_stems({word: stem})
    return stem


# What ends a content word's stem that is spelled like a stop word ("owned" and "owns" stem to
# "own", "underlying" to "under", "others" to "other": 49 such words, 3,388 occurrences, in
# Reuters). Stop words are indexed as themselves, so without it "underlying inflation" would
# search the stop word "under", and "owned" would match every "their own".
STOP_STEM_MARK = "_"


def content_stem(word: str) -> str:
    """The index term of a word that is not a stop word: its Snowball stem, marked with
    ``STOP_STEM_MARK`` when that stem is spelled like a stop word."""
    stem = snowball_stem(word)
    return stem + STOP_STEM_MARK if stem in STOP_WORDS else stem


def add_stem_source(name: str, load: Callable[[], Mapping[str, str]]) -> None:
    """Consult ``load()`` (word -> stem pairs, such as the stem file ``name``) before NLTK, once,
    when a word not already known first needs stemming. Adding it again reads it again."""
    _sources[name] = load


def remember_stems(stems: Mapping[str, str]) -> None:
    """Know these stems (computed here, or by an indexing worker: its ``known_stems``)."""
    if len(_stems) + len(stems) > STEM_CACHE_SIZE:
        _stems.clear()
    _stems.update(stems)


def known_stems() -> dict[str, str]:
    """Every stem this process knows, the words it analyzed among them (for a stem file)."""
    return dict(_stems)


class NormalizeFilter(Filter):  # type: ignore[misc]
    """Lower-case and fold accents in one pass over the tokens.

    Gives exactly what ``LowercaseFilter() | CharsetFilter(FOLD_MAP)`` gives at about half the
    cost: one generator instead of two, and no folding of ASCII words, which it cannot change
    once they are lower-cased (the few ASCII entries of the map are upper-case letters). Every
    token keeps its position: stop words are indexed like any other word.
    """

    def __init__(self, charmap: dict[int, str]) -> None:
        self.charmap = charmap

    def __eq__(self, other: object) -> bool:
        return isinstance(other, NormalizeFilter) and self.charmap == other.charmap

    def __call__(self, tokens: Iterable[Any]) -> Iterator[Any]:
        charmap = self.charmap
        for token in tokens:
            text = token.text.lower()
            if not text.isascii():
                text = text.translate(charmap)
            if not text:
                continue
            token.text = text
            token.stopped = False
            yield token


class ProseAnalyzer(CompositeAnalyzer):  # type: ignore[misc]
    """``RegexTokenizer | NormalizeFilter | StemFilter``, run as one loop when it can be.

    Indexing a document sends every word through three generators and sets half a dozen token
    attributes at each step (the loop takes about a quarter off the analysis time of a build:
    0.80 to 0.59 CPU s for 2,000 Reuters articles). When no character offsets or original
    texts are asked for (indexing, relevance feedback, query words), this loop gives the same
    tokens, positions included; anything else (highlighting asks for offsets) goes through the
    chain. The stemmer leaves stop words as they are (its ``ignore`` set).
    Snippets find their words with ``word_expression`` and ``word_term`` instead.
    """

    def __call__(self, value: str, positions: bool = False, chars: bool = False, removestops: bool = True,
                 start_pos: int = 0, tokenize: bool = True, keeporiginal: bool = False, no_morph: bool = False,
                 **kwargs: Any) -> Iterator[Any]:
        if chars or keeporiginal or no_morph or start_pos or not tokenize:
            chain: Iterator[Any] = super().__call__(
                value, positions=positions, chars=chars, removestops=removestops, start_pos=start_pos,
                tokenize=tokenize, keeporiginal=keeporiginal, no_morph=no_morph, **kwargs)
            return chain
        return self._tokens(value, Token(positions, chars, removestops=removestops, **kwargs))

    def __getstate__(self) -> dict[str, Any]:
        # The schema pickles the analyzer into the index: leave the word cache out of it.
        state = dict(self.__dict__)
        state.pop("_terms", None)
        return state

    def word_positions(self, value: str) -> dict[str, list[int]]:
        """The terms of ``value``, each with its positions, as this analyzer's tokens give them.

        What indexing needs, without a Token per word: each distinct word form is lower-cased,
        folded, checked against the stop words and stemmed once (``_term``), and news repeats
        its words heavily. Terms are in the order of their first occurrence.
        """
        terms = self._word_cache()
        positions: dict[str, list[int]] = {}
        for pos, word in enumerate(self.items[0].expression.findall(value)):
            term = terms.get(word, _UNSEEN)
            if term is _UNSEEN:
                term = terms[word] = self._term(word)
            if term is None:  # nothing left once folded
                continue
            if term in positions:
                positions[term].append(pos)
            else:
                positions[term] = [pos]
        return positions

    def words_matching(self, words: Iterable[str], wanted: Container[str]) -> dict[str, str]:
        """Those of ``words`` (distinct words of ``word_expression``) whose ``word_term`` is in
        ``wanted``, each with its term: what snippets look for in a hit's text, every word
        analysed once per process (the cache ``word_positions`` fills), not once per hit."""
        terms = self._word_cache()
        found: dict[str, str] = {}
        for word in words:
            term = terms.get(word, _UNSEEN)
            if term is _UNSEEN:
                term = terms[word] = self._term(word)
            if term is not None and term in wanted:
                found[word] = term
        return found

    def _word_cache(self) -> dict[str, str | None]:
        """Word form -> index term (None when folding leaves nothing), started again when full."""
        terms: dict[str, str | None] | None = self.__dict__.get("_terms")
        if terms is None or len(terms) >= WORD_CACHE_SIZE:
            terms = {}
            self._terms = terms
        return terms

    def _term(self, word: str) -> str | None:
        """The index term of one word as ``_tokens`` makes it, or None when folding leaves nothing."""
        stemmer = self.items[2]
        text = self._folded(word)
        if not text:
            return None
        return text if text in stemmer.ignore else stemmer._stem(text)

    def _folded(self, word: str) -> str:
        text = word.lower()
        return text if text.isascii() else text.translate(self.items[1].charmap)

    def _tokens(self, value: str, token: Any) -> Iterator[Any]:
        tokenizer, normalize, stemmer = self.items
        charmap, stem, ignore = normalize.charmap, stemmer._stem, stemmer.ignore
        positions = token.positions
        for pos, word in enumerate(tokenizer.expression.findall(value)):
            text = word.lower()
            if not text.isascii():
                text = text.translate(charmap)
            if not text:
                continue
            token.text = text if text in ignore else stem(text)
            token.boost = 1.0
            token.stopped = False
            if positions:
                token.pos = pos
            yield token

    def word_term(self, word: str) -> str:
        """The term this analyzer gives one word of its tokenizer: lower-cased and folded, then
        stemmed unless it is a stop word."""
        term = self._term(word)
        return str(term) if term is not None else self._folded(word)

    @property
    def word_expression(self) -> re.Pattern[str]:
        """The compiled pattern whose matches are this analyzer's words."""
        expression: re.Pattern[str] = self.items[0].expression
        return expression


def text_analyzer() -> Analyzer:
    """The analyzer for prose fields: words, lower case, no accents, stemmed but for stop words
    (``content_stem``)."""
    return ProseAnalyzer(
        RegexTokenizer(WORD_PATTERN),
        NormalizeFilter(FOLD_MAP),
        StemFilter(stemfn=content_stem, ignore=STOP_WORDS, cachesize=None),
    )


_WORD = re.compile(WORD_PATTERN)


def spelling_words(text: str) -> set[str]:
    """The distinct words of ``text`` as ``text_analyzer`` sees them before stemming.

    The same set Whoosh's ``spelling=True`` collects (the analyzer run without its stemmer),
    computed once per distinct word rather than once per occurrence.
    """
    words = set()
    for raw in set(_WORD.findall(text)):
        word = raw.lower()
        if not word.isascii():
            word = word.translate(FOLD_MAP)
        if word and word not in STOP_WORDS:
            words.add(word)
    return words


def label_analyzer() -> Analyzer:
    """The analyzer for sources and categories: URL or label pieces, lower case, no stemming."""
    return RegexTokenizer(r"[^\s/:.?=&#,;]+") | LowercaseFilter() | CharsetFilter(FOLD_MAP)


def analyze(text: str) -> list[str]:
    """Return the index terms ``text_analyzer`` makes of ``text`` (a helper for tests and tools)."""
    return [token.text for token in text_analyzer()(text)]
