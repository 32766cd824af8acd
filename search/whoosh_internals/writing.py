"""Whoosh's segment writer made lean: measured fixes to how Whoosh writes a segment.

Applied by ``reading.apply`` (called by ``open_whoosh`` / ``create_whoosh``, through which every index
imports; whoosh-reloaded is frozen, so these stay valid), each against what it cost:
``_inline_single_postings`` (a posting block per term, even a term with one posting),
``_lean_add_postings`` (four calls and a dozen checks per posting written to a segment, and a
term info object per term of one posting), ``_direct_positions`` (a Token per word indexed),
``_lean_add_document`` (two generators and a checked call per posting pooled),
``_cache_missing_length_columns`` (a stat per posting while writing a segment) and
``_compact_term_hashes`` (128 bytes of memory per term while a segment is written). The
segments written are Whoosh's (the tests compare them byte for byte where Whoosh's own writer
can be run beside them).
"""
from __future__ import annotations

from array import array
from datetime import datetime
from pickle import dumps
from typing import Any

from whoosh import fields, formats
from whoosh.codec import whoosh3
from whoosh.codec.base import OutOfOrderError
from whoosh.filedb import filetables
from whoosh.matching import ListMatcher
from whoosh.system import pack_ushort
from whoosh.util.numeric import byte_to_length, length_to_byte, to_sortable
from whoosh.writing import PostingPool, SegmentWriter

from search.analysis.text import STOP_WORDS
from search.engine.columns import ColumnsWriter, SegmentColumns, columns_path

# Terms with fewer postings than this keep them in their term-table entry (see
# ``_inline_single_postings``).
INLINE_LIMIT = 2
# Whoosh's own methods that the fixes replace outright (here and in ``reading``), for
# tests to compare with.
WHOOSH_ORIGINALS: dict[str, Any] = {}
# PostingPool.add's size estimate of a posting, less the lengths of its field name, term and value.
_POSTING_OVERHEAD = 28 + 4 * 5 + 21 + 26 + 18 + 16 + 21
# Single positions whose encoding ``_direct_positions`` remembers (0: none, and segments byte for
# byte as Whoosh writes them).
SINGLE_POSITIONS = 10_000


def _inline_single_postings() -> None:
    """Write a term with a single posting into the term table, not as a posting block.

    Most terms of a segment occur in one document (ids, paths, digests, the fine tiers of dates,
    spelling words, rare words: 38,000 of 61,000 terms in 2,000 Reuters articles), and each
    block costs two pickles, a zlib call and its own block header (inlining them took a
    quarter off the time of writing a segment of 2,000 articles). Whoosh's format has "inlined"
    postings for this (a ``ListMatcher`` reads them), but its writer never uses them: the default
    limit of 1 inlines no term, and the method it would call is misspelled (``set_inline`` for
    ``set_inlined``). This turns that path on, and makes inlined postings read back as block
    postings do: values ``None`` for fields without values (a merge copies them back into a
    posting pool, which accepts ``None`` but not the empty string); copies of the matcher that
    keep their term (ranking asks each term matcher for its field); and an ``id()`` that does
    not raise once the matcher has run out, as a block matcher's does not (Whoosh's
    ``AndNotMatcher.skip_to`` asks for it: ``HARBO NOT FLOO`` raised IndexError).
    """
    def set_inline(self: Any, ids: Any, weights: Any, values: Any) -> None:
        if len(values) != len(ids):  # a format without values (ids, keywords)
            values = [None] * len(ids)
        self.set_inlined(ids, weights, values)

    def copy(self: Any) -> Any:
        return self.__class__(self._ids, self._weights, self._values, self._format, self._scorer,
                              self._i, self._all_weights, self._term, self._terminfo)

    def last_id(self: Any) -> int:
        ids, at = self._ids, self._i
        return int(ids[at] if at < len(ids) else ids[-1] if ids else -1)

    whoosh3.W3TermInfo.set_inline = set_inline
    ListMatcher.copy = copy
    ListMatcher.id = last_id
    blocklimit, compression, _ = whoosh3.W3Codec.__init__.__defaults__
    whoosh3.W3Codec.__init__.__defaults__ = (blocklimit, compression, INLINE_LIMIT)


def _lean_add_postings() -> None:
    """Write a segment's sorted postings with less work per posting.

    Whoosh's ``FieldWriter.add_postings`` looks up each posting's field length through four
    calls (the column's name is rebuilt every time) and passes the posting on through two
    more, the last asserting the types of all four values (a fifth of the time of writing a
    segment in a profile of one worker). This version reads a field's length column once, when the field starts, and
    appends postings straight to the block; the blocks, terms and files it writes are the same.
    A term with one posting (most terms) skips the term info object, the posting block and the
    file position set up for it: ``write_single`` writes its inlined term-table entry directly
    (the segment's files stay byte for byte the same; a tenth off a segment's finish).
    """
    to_length = [None] + [byte_to_length(b) for b in range(1, 256)]  # byte 0: no length

    def field_lengths(lengths: Any, fieldname: str) -> list[int | None] | None:
        if lengths is None:  # a codec without length statistics
            return None
        column = lengths._cached_reader(whoosh3._lenfield(fieldname), whoosh3.LENGTHS_COLUMN)
        return None if column is None else [to_length[b] for b in column]

    def add_postings(self: Any, schema: Any, lengths: Any, items: Any) -> None:
        columns = _columns_writer(self, schema, lengths)
        if columns is not None:
            items = _teed(items, columns.add)
        lastfn: str | None = None
        lasttext: bytes | None = None
        field_length: list[int | None] | None = None
        add: Any = None  # the current term's postings writer's add_posting
        single: tuple[Any, ...] | None = None  # the current term's first posting, not yet written
        inline = False  # whether the field's terms of one posting go into the term table
        for fieldname, btext, docnum, weight, value in items:
            if fieldname != lastfn:
                if lastfn is not None and fieldname < lastfn:
                    raise OutOfOrderError(f"Field {lastfn!r} .. {fieldname!r}")
                if single is not None:
                    write_single(self, *single)
                    single = None
                elif lasttext is not None:
                    self.finish_term()
                if lastfn is not None:
                    self.finish_field()
                self.start_field(fieldname, schema[fieldname])
                field_length = field_lengths(lengths, fieldname)
                inline = type(self._postwriter) is whoosh3.W3PostingsWriter and self._postwriter._inlinelimit > 1
                lastfn, lasttext = fieldname, None
            elif lasttext and btext < lasttext:
                raise OutOfOrderError(f"Term {fieldname}:{lasttext!r} .. {fieldname}:{btext!r}")
            if docnum == -1:  # Whoosh's marker for spelling words, which it no longer writes
                continue
            length = field_length[docnum] if field_length else None
            if btext != lasttext:
                if single is not None:
                    write_single(self, *single)
                    single = None
                elif lasttext is not None:
                    self.finish_term()
                lasttext = btext
                if inline:  # wait: most terms have no second posting
                    single = (btext, docnum, weight, value, length)
                    continue
                self.start_term(btext)
                add = self._postwriter.add_posting
            elif single is not None:  # a second posting: the term gets a posting list after all
                self.start_term(btext)
                add = self._postwriter.add_posting
                _, first_docnum, first_weight, first_value, first_length = single
                add(first_docnum, first_weight, first_value or b"", first_length)
                single = None
            add(docnum, weight, value or b"", length)
        if single is not None:
            write_single(self, *single)
        elif lasttext is not None:
            self.finish_term()
        if lastfn is not None:
            self.finish_field()
        if columns is not None:
            columns.write()

    def write_single(self: Any, btext: bytes, docnum: int, weight: float, value: bytes | None,
                     length: int | None) -> None:
        """The term-table entry of a term with one posting, as Whoosh's writer makes it inlined.

        What ``start_term``, ``add_posting``, ``finish_term`` and ``W3TermInfo.to_bytes`` give,
        without the posting block, the term info object and the file position they set up.
        """
        stored_weight = array("f", (weight,))[0]  # a block keeps its weights as 32-bit floats
        minlength = length_to_byte(length) if length else 0
        entry = whoosh3.W3TermInfo._struct.pack(
            True, stored_weight, 1, minlength, length_to_byte(length if length and length > 0 else 0),
            weight if weight > 0 else 0, docnum, docnum)
        inlined = ((docnum,), (stored_weight,), (value or None,))
        self._tindex.add(pack_ushort(self._fieldid) + btext, entry + dumps(inlined, 2))

    def add_posting(self: Any, id_: int, weight: float, vbytes: bytes, length: int | None = None) -> None:
        # Whoosh's W3PostingsWriter.add_posting without its type assertions
        if len(self._ids) >= self._blocklimit:
            self._write_block()
        self._ids.append(id_)
        self._weights.append(weight)
        if weight > self._maxweight:
            self._maxweight = weight
        if vbytes:
            self._values.append(vbytes)
        if length:
            if self._minlength is None or length < self._minlength:
                self._minlength = length
            if length > self._maxlength:
                self._maxlength = length

    WHOOSH_ORIGINALS["add_postings"] = whoosh3.W3FieldWriter.add_postings
    WHOOSH_ORIGINALS["add_posting"] = whoosh3.W3PostingsWriter.add_posting
    whoosh3.W3FieldWriter.add_postings = add_postings
    whoosh3.W3PostingsWriter.add_posting = add_posting


# The fields whose postings Whoosh still writes: ids and paths (Whoosh's writer deletes and
# finds documents by them) and the spelling word lists (fuzzy words and did-you-mean walk their
# terms with Whoosh's automata). Every other field's postings exist only in newsearch's columns,
# which are all that searches read.
WHOOSH_FIELDS = frozenset({"id", "path", "spell_title", "spell_body"})
# Tests that compare the engine with Whoosh's own matchers set this, so that Whoosh writes every
# field's postings too (nothing in newsearch reads them).
KEEP_WHOOSH_POSTINGS = False


def _columns_writer(field_writer: Any, schema: Any, lengths: Any) -> ColumnsWriter | None:
    """The writer of newsearch's own postings (``engine.columns``) for the segment a Whoosh
    field writer is writing, fed from the same sorted postings and from the columns of the
    segments Whoosh merges into it; None for a segment written outside a folder."""
    folder = getattr(field_writer._storage, "folder", None)
    if not isinstance(folder, str) or not folder:  # Whoosh's in-memory storage has an empty folder
        return None
    segment = field_writer._segment
    doc_count = lengths.doc_count_all() if lengths is not None else segment.doc_count_all()
    positional = [name for name in schema.names()
                  if schema[name].format and schema[name].format.supports("positions")]
    sources = getattr(field_writer, "_newsearch_merged", [])
    return ColumnsWriter(folder, segment.segment_id(), doc_count, positional, [merged for merged, _ in sources],
                         min((basedoc for _merged, basedoc in sources), default=None))


def _merged_columns(reader: Any, basedoc: int) -> tuple[SegmentColumns, Any]:
    """A merged segment's columns and where each of its live documents lands (as Whoosh's
    ``write_per_doc`` numbers them: in order, from ``basedoc``)."""
    import numpy as np

    from search.whoosh_internals.reading import segment_location

    location = segment_location(reader)
    if location is None:
        raise RuntimeError("a merged segment without a folder")
    size = reader.doc_count_all()
    columns = SegmentColumns(columns_path(location[0], location[1]), size)
    docmap = np.full(size, -1, dtype=np.int64)
    live = np.fromiter(reader.all_doc_ids(), dtype=np.int64)
    docmap[live] = basedoc + np.arange(len(live), dtype=np.int64)
    return columns, docmap


def _teed(items: Any, add: Any) -> Any:
    """The postings, each handed to ``add`` (the columns writer); passed on to Whoosh's writer
    only for ``WHOOSH_FIELDS``."""
    keep_all = KEEP_WHOOSH_POSTINGS
    for item in items:
        if item[2] != -1:  # Whoosh's marker for spelling words
            add(*item)
        if keep_all or item[0] in WHOOSH_FIELDS:
            yield item


def _remember_merges() -> None:
    """Note each segment Whoosh merges into a writer's new segment (``add_reader``) and hand
    the list to the field writer, so the new segment's columns include the merged ones'."""
    add_reader = SegmentWriter.add_reader
    flush = SegmentWriter._flush_segment

    def remembering_add_reader(self: Any, reader: Any) -> None:
        basedoc = self.docnum
        merged = _merged_columns(reader, basedoc)  # read now: Whoosh closes the reader after
        add_reader(self, reader)
        self.__dict__.setdefault("_newsearch_merged", []).append((merged, basedoc))

    def flush_segment(self: Any) -> None:
        self.fieldwriter._newsearch_merged = self.__dict__.get("_newsearch_merged", [])
        flush(self)

    SegmentWriter.add_reader = remembering_add_reader
    SegmentWriter._flush_segment = flush_segment


def _direct_positions() -> None:
    """Index a prose field from its analyzer's word positions, without a Token per word.

    ``Positions.word_values`` (the postings of every prose field) runs the analyzer's token
    stream through a filter for stopped tokens and collects each token's position and boost.
    An analyzer with a ``word_positions`` method (``analysis.ProseAnalyzer``) hands over the
    positions of each term directly; the weights (one per occurrence: the analyzer's boosts
    are all 1) and the encoded positions are the same. Other analyzers, formats and options
    take Whoosh's path.
    """
    original = WHOOSH_ORIGINALS["word_values"] = formats.Positions.word_values
    encode = formats.Positions.encode
    # A term's positions, encoded: most terms occur once in a document, at one of few positions.
    # Sharing these values also lets a posting block's pickle refer back to an equal value
    # instead of repeating it: the same values read back from a smaller postings file.
    single: dict[int, bytes] = {}

    def word_values(self: Any, value: Any, analyzer: Any, **kwargs: Any) -> Any:
        word_positions = getattr(analyzer, "word_positions", None)
        if (word_positions is None or type(self) is not formats.Positions or not isinstance(value, str)
                or kwargs.keys() - {"mode"}):
            return original(self, value, analyzer, **kwargs)
        boost = self.field_boost
        values = []
        for word, positions in word_positions(value).items():
            count = len(positions)
            if count == 1 and positions[0] < SINGLE_POSITIONS:
                encoded = single.get(positions[0])
                if encoded is None:
                    encoded = single[positions[0]] = encode(self, positions)
            else:
                encoded = encode(self, positions)
            # The frequency is what Whoosh adds up into the field's length (nothing else reads
            # it; the weight is the term frequency scoring reads). A stop word is indexed but
            # adds nothing to the length, so BM25 judges a text long or short by the words that
            # carry meaning, as it did when stop words were not indexed.
            values.append((word, 0 if word in STOP_WORDS else count, float(count) * boost, encoded))
        return values

    formats.Positions.word_values = word_values


def _lean_add_document() -> None:
    """Add a document's postings to the writer's pool with less work per posting.

    ``SegmentWriter.add_document`` passes each posting up through two generators (the field's
    ``index`` and its format's ``word_values``) and then to ``PostingPool.add``, which asserts
    the types of its values and adds up its estimate of the pool's size. This version takes a
    field's postings as one list and adds them to the pool in one loop, with the same size
    estimate, so the pool spills its sorted runs at the same postings; documents, stored
    fields and columns are written as before. A date's terms (one per tier, 16 with
    ``schema``'s tiers) come from one conversion of the date to a number, not one per tier
    (45 to 7 microseconds a document).
    """
    def index(self: Any, value: Any, **kwargs: Any) -> Any:
        # FieldType.index, returning a list: the same terms, encoded the same way
        if not self.format:
            raise Exception(f"{self.__class__.__name__} field {self!r} cannot index without a format")
        if not isinstance(value, (str, list, tuple)):
            raise ValueError(f"{value!r} is not unicode or sequence")
        kwargs.setdefault("mode", "index")
        return [(word.encode("utf-8"), freq, weight, vbytes)
                for word, freq, weight, vbytes in self.format.word_values(value, self.analyzer, **kwargs)]

    def post(pool: Any, fieldname: str, docnum: int, items: Any, boost: float) -> int:
        """Add one field's postings to ``pool`` as ``PostingPool.add`` does; return their frequency."""
        if type(pool) is not PostingPool:
            total = 0
            for tbytes, freq, weight, vbytes in items:
                total += freq
                pool.add((fieldname, tbytes, docnum, weight * boost, vbytes))
            return total
        limit, overhead = pool.limit, _POSTING_OVERHEAD + len(fieldname)
        size, current = pool.currentsize, pool.current
        total = 0
        for tbytes, freq, weight, vbytes in items:
            total += freq
            size += overhead + 2 * len(tbytes) + (len(vbytes) if vbytes else 0)
            if size > limit:
                pool.save()  # a new run; the pool starts again from an empty list
                size, current = 0, pool.current
            current.append((fieldname, tbytes, docnum, weight * boost, vbytes))
        pool.currentsize = size
        if items:
            pool.fieldnames.add(fieldname)
        return total

    original_date_index = WHOOSH_ORIGINALS["date_index"] = fields.DATETIME.index

    def date_index(self: Any, value: Any, **kwargs: Any) -> Any:
        # DATETIME.index, returning a list: the same tier terms, the date converted once
        if not isinstance(value, datetime) or not self.shift_step:
            return original_date_index(self, value, **kwargs)
        number = to_sortable(self.numtype, self.bits, self.signed, self.prepare_number(self.prepare_datetime(value)))
        return [(self.sortable_to_bytes(number, shift), 1, 1.0, b"") for shift in range(0, self.bits, self.shift_step)]

    original = WHOOSH_ORIGINALS["add_document"] = SegmentWriter.add_document

    def add_document(self: Any, **fields: Any) -> None:
        lean = self.__dict__.get("_lean")
        if lean is None:  # Whoosh's spelling words and term vectors are left to Whoosh's method
            lean = self._lean = not any(field.separate_spelling() or field.vector
                                        for _, field in self.schema.items())
        if not lean:
            original(self, **fields)
            return
        self._check_state()
        perdocwriter, schema, docnum = self.perdocwriter, self.schema, self.docnum
        docboost = self._doc_boost(fields)
        fieldnames = sorted(name for name in fields if not name.startswith("_"))
        self._check_fields(schema, fieldnames)
        perdocwriter.start_doc(docnum)
        try:
            for fieldname in fieldnames:
                value = fields.get(fieldname)
                if value is None:
                    continue
                field = schema[fieldname]
                length = 0
                if field.indexed:
                    items = field.index(value)
                    if not isinstance(items, list):
                        items = list(items)
                    total = post(self.pool, fieldname, docnum, items,
                                 self._field_boost(fields, fieldname, docboost))
                    if field.scorable:
                        length = total
                stored = fields.get(f"_stored_{fieldname}", value)
                perdocwriter.add_field(fieldname, field, stored if field.stored else None, length)
                column = field.column_type
                if column and stored is not None:
                    perdocwriter.add_column_value(fieldname, column, field.to_column_value(stored))
        except Exception:
            perdocwriter.cancel_doc()
            raise
        perdocwriter.finish_doc()
        self._added = True
        self.docnum += 1

    WHOOSH_ORIGINALS["index"] = fields.FieldType.index
    fields.FieldType.index = index
    fields.DATETIME.index = date_index
    SegmentWriter.add_document = add_document


def _cache_missing_length_columns() -> None:
    """Make Whoosh remember that a field has no length column.

    Writing a segment asks for the field length of every posting. For fields without lengths
    (ids, dates, keywords, spelling lists) ``W3PerDocReader._cached_reader`` caches nothing
    and asks the file system again each time: one ``stat`` per posting, a sixth of the time of
    a commit. This caches the "no column" answer too; a segment's columns never change once it
    is written, and only written segments are read.
    """
    original = whoosh3.W3PerDocReader._cached_reader

    def cached_reader(self: Any, fieldname: str, column: Any) -> Any:
        try:
            return self._readers[fieldname]
        except KeyError:
            reader = self._readers[fieldname] = original(self, fieldname, column)
            return reader

    whoosh3.W3PerDocReader._cached_reader = cached_reader


def _compact_term_hashes() -> None:
    """Keep the hash of each term of a segment being written in an array, not a tuple.

    Whoosh's ``HashWriter`` (the term table) remembers each key's hash and file position until
    it closes, as a tuple in one of 256 lists: about 128 bytes a term. Ids, paths, digests and
    the fine tiers of dates are unique to a document, about ten terms each, so a worker
    writing 216,000 articles (Reuters x20) grew by 245 MB while finishing its segment. Two
    numbers in an array take 16 bytes (it now grows by 50 MB); the tables written are the same.

    The ordered table (the one segments use) counts each entry's position rather than asking
    the file twice per term: a buffered file's ``tell`` is a system call (a twentieth of a
    segment's finish). Nothing else writes to its file until the tables are written, which
    checks the count.
    """
    original_init = filetables.HashWriter.__init__
    original_write_hashes = filetables.HashWriter._write_hashes

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        original_init(self, *args, **kwargs)
        self.buckets = [array("Q") for _ in range(256)]  # hash, position, hash, position, ...
        self.end = self.dbfile.tell()  # where the next entry goes

    def write_entry(self: Any, key: bytes, value: bytes, position: int) -> None:
        entry = filetables._lengths.pack(len(key), len(value)) + key + value
        self.dbfile.write(entry)
        self.end = position + len(entry)
        hashed = self.hashfn(key)
        bucket = self.buckets[hashed & 255]
        bucket.append(hashed)
        bucket.append(position)

    def add(self: Any, key: bytes, value: bytes) -> None:
        # Other tables (Whoosh's fielded one) write between entries: ask the file where it is.
        write_entry(self, key, value, self.dbfile.tell())

    def ordered_add(self: Any, key: bytes, value: bytes) -> None:
        # OrderedHashWriter.add, with the entry's position counted
        if key <= self.lastkey:
            raise ValueError(f"Keys must increase: {self.lastkey!r}..{key!r}")
        self.index.append(self.end)
        write_entry(self, key, value, self.end)
        self.lastkey = key

    def write_hashes(self: Any) -> None:
        if isinstance(self, filetables.OrderedHashWriter) and self.dbfile.tell() != self.end:
            raise RuntimeError(f"term table written around its writer: at {self.dbfile.tell()}, counted {self.end}")
        packed = self.buckets
        # Whoosh's own table writing, given one bucket's (hash, position) pairs at a time.
        self.buckets = (list(zip(bucket[::2], bucket[1::2])) for bucket in packed)
        try:
            original_write_hashes(self)
        finally:
            self.buckets = packed

    for cls, name, method in ((filetables.HashWriter, "__init__", init), (filetables.HashWriter, "add", add),
                              (filetables.OrderedHashWriter, "add", ordered_add),
                              (filetables.HashWriter, "_write_hashes", write_hashes)):
        WHOOSH_ORIGINALS[f"{cls.__name__}.{name}"] = cls.__dict__[name]
        setattr(cls, name, method)


def apply_writer_fixes() -> None:
    """Apply the fixes above (once per process: ``reading.apply`` guards the call)."""
    _inline_single_postings()
    _lean_add_postings()
    _direct_positions()
    _lean_add_document()
    _cache_missing_length_columns()
    _compact_term_hashes()
    _remember_merges()
