"""newsearch's own posting format (search/engine/columns.py): written with each segment, equal to
Whoosh's postings, damaged files refused with IndexDamagedError."""
from __future__ import annotations

from pathlib import Path

import pytest

import search
from search.engine.columns import SegmentColumns, columns_path
from search.engine.evaluator import Evaluator
from search.errors import IndexDamagedError
from tests.conftest import article_text


def test_every_posting_is_whooshs(sample_index: search.Index) -> None:
    """Each term's documents, weights and positions equal what Whoosh's own matchers read."""
    searcher = sample_index._searcher()
    evaluator = Evaluator(searcher)
    checked = 0
    for segment in evaluator.segments:
        reader = segment.reader
        for field in ("title", "body", "tags", "source", "id", "path", "tag_list", "month"):
            postings = segment.field(field)
            assert postings is not None, field
            fmt = reader.schema[field].format
            for number in range(len(postings.terms)):
                text = postings.terms[number]
                matcher = reader.postings(field, text)
                start, end = postings.span(number)
                docs, weights, positions = [], [], []
                while matcher.is_active():
                    docs.append(matcher.id())
                    weights.append(matcher.weight())
                    if postings.has_positions:
                        positions.append(fmt.decode_positions(matcher.value()))
                    matcher.next()
                assert postings.docs[start:end].tolist() == docs, (field, text)
                assert postings.weights[start:end].tolist() == pytest.approx(weights), (field, text)
                if postings.has_positions:
                    assert postings.pos_starts is not None and postings.positions is not None
                    found = [postings.positions[postings.pos_starts[i]:postings.pos_starts[i + 1]].tolist()
                             for i in range(start, end)]
                    assert found == positions, (field, text)
                checked += 1
    assert checked > 1000


def _index(tmp_path: Path, count: int = 3) -> Path:
    corpus = tmp_path / "c"
    corpus.mkdir(exist_ok=True)
    for n in range(count):
        (corpus / f"a{n}.md").write_text(article_text(f"Storm {n}", f"<p>storm harbour {n}</p>"))
    search.open_index(tmp_path / "ix", create=True).update(corpus)
    return tmp_path / "ix"


def test_merged_and_deleted_segments_keep_columns_that_fit(tmp_path: Path) -> None:
    """After several updates (new segments, deletions, merges) each segment has its columns,
    and the columns of segments merged away are gone."""
    root = _index(tmp_path)
    corpus = tmp_path / "c"
    for round_ in range(12):
        (corpus / f"more{round_}.md").write_text(article_text(f"Flood {round_}", "<p>flood storm</p>"))
        if round_ % 3 == 0:
            (corpus / f"a{round_ % 3}.md").unlink(missing_ok=True)
        search.open_index(root).update(corpus)
    with search.open_index(root) as ix:
        assert ix.search("flood", limit=100).total == 12
        assert ix.search("storm", limit=100).total == 12 + 2
        evaluator = Evaluator(ix._searcher())
        kept = {path.name for path in next(root.glob("gen-*")).glob("cols-*")}
        assert kept == {columns_path("", s.reader.segment().segment_id()).name for s in evaluator.segments}


@pytest.mark.parametrize("damage", ["truncate", "garbage", "remove"])
def test_a_damaged_postings_file_is_index_damaged_error(tmp_path: Path, damage: str) -> None:
    root = _index(tmp_path)
    path = next(root.glob("gen-*/cols-*.bin"))
    if damage == "truncate":
        path.write_bytes(path.read_bytes()[:200])
    elif damage == "garbage":
        path.write_bytes(b"\x80\x04not columns" * 10)
    else:
        path.unlink()
    with pytest.raises(IndexDamagedError, match="rebuild"):
        search.open_index(root).search("storm")


def test_the_file_holds_no_pickle(tmp_path: Path) -> None:
    """Opening the columns reads JSON and raw arrays: no pickle opcode starts the file."""
    path = next(_index(tmp_path).glob("gen-*/cols-*.bin"))
    data = path.read_bytes()
    assert data.startswith(b"newsearch columns 1\n")
    columns = SegmentColumns(path, 3)
    assert columns.field("body") is not None and columns.field("nonsense") is None
