"""Analysis: how text becomes index terms.

Parts:
- ``STOP_WORDS``: the Snowball English stop-word list, shipped here because NLTK's copy needs a
  data download that newsearch never attempts.
- ``snowball_stem``: NLTK's Snowball (English) stemmer behind a large cache.
- ``text_analyzer()``: tokenize, lower-case, fold accents, drop stop words, stem. Used for the
  title, description, body and tags fields, and for every query against them.
- ``label_analyzer()``: splits a source URL or a category into lower-cased words, unstemmed, so
  ``source:foxnews`` and ``category:politics`` match without typing the whole value.

Whatever analyzes documents must analyze queries: the schema pickles these analyzers into the
index, so queries always go through the same chain.
"""
from __future__ import annotations

from functools import lru_cache

from nltk.stem.snowball import SnowballStemmer
from whoosh.analysis import (
    Analyzer,
    CharsetFilter,
    LowercaseFilter,
    RegexTokenizer,
    StemFilter,
    StopFilter,
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

# Words are runs of letters and digits; inner dots ("3.5") and apostrophes ("mayor's", "don't")
# stay inside the word so the stemmer and the stop list see the whole word.
WORD_PATTERN = r"\w+(?:[.'\u2019]\w+)*"

# Accent folding, plus the typographic apostrophe news copy uses, so "Mamdani’s" == "Mamdani's".
FOLD_MAP: dict[int, str] = {**accent_map, 0x2019: "'"}

_stemmer = SnowballStemmer("english")

# The cache is what makes NLTK's pure-Python stemmer usable: news vocabulary repeats heavily.
STEM_CACHE_SIZE = 500_000


@lru_cache(maxsize=STEM_CACHE_SIZE)
def snowball_stem(word: str) -> str:
    """Return the Snowball (English) stem of a lower-cased word."""
    return str(_stemmer.stem(word))


def text_analyzer() -> Analyzer:
    """The analyzer for prose fields: words, lower case, no accents, no stop words, stemmed."""
    return (
        RegexTokenizer(WORD_PATTERN)
        | LowercaseFilter()
        | CharsetFilter(FOLD_MAP)
        | StopFilter(stoplist=STOP_WORDS, minsize=1)
        | StemFilter(stemfn=snowball_stem, cachesize=None)
    )


def label_analyzer() -> Analyzer:
    """The analyzer for sources and categories: URL or label pieces, lower case, no stemming."""
    return RegexTokenizer(r"[^\s/:.?=&#,;]+") | LowercaseFilter() | CharsetFilter(FOLD_MAP)


def analyze(text: str) -> list[str]:
    """Return the index terms ``text_analyzer`` makes of ``text`` (a helper for tests and tools)."""
    return [token.text for token in text_analyzer()(text)]
