"""Indexing: full builds, incremental updates, duplicates and skipped files."""
from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

import search
from search.index.update import update_index
from search.index.storage import current_generation

from tests.conftest import article_text


def index_of(tmp_path: Path) -> Path:
    return tmp_path / "index"


def all_paths(folder: Path) -> set[str]:
    with search.open_index(folder) as ix:
        reader = ix._searcher().reader()
        column = reader.column_reader("path")
        return {column[n] for n in reader.all_doc_ids()}


def touch_later(path: Path) -> None:
    info = path.stat()
    os.utime(path, ns=(info.st_atime_ns, info.st_mtime_ns + 5_000_000_000))


def test_first_run_builds_everything(tmp_path: Path, tiny_corpus: Path) -> None:
    summary = update_index(index_of(tmp_path), tiny_corpus)
    assert (summary.added, summary.updated, summary.deleted, summary.rebuilt) == (6, 0, 0, True)
    assert summary.total == 6
    assert all_paths(index_of(tmp_path)) == {p.name for p in tiny_corpus.glob("*.md")}


def test_second_run_changes_nothing(tmp_path: Path, tiny_corpus: Path) -> None:
    update_index(index_of(tmp_path), tiny_corpus)
    generation = current_generation(index_of(tmp_path))
    summary = update_index(index_of(tmp_path), tiny_corpus)
    assert (summary.added, summary.updated, summary.deleted, summary.unchanged) == (0, 0, 0, 6)
    assert not summary.rebuilt and not summary.changed
    assert current_generation(index_of(tmp_path)) == generation


def test_new_changed_and_removed_files_are_detected(tmp_path: Path, tiny_corpus: Path) -> None:
    update_index(index_of(tmp_path), tiny_corpus)
    (tiny_corpus / "new.md").write_text(article_text("Volcano erupts", "<p>Ash clouds over the island.</p>"))
    changed = tiny_corpus / "heatwave.md"
    changed.write_text(article_text("Heatwave ends", "<p>Cooler air arrived with thunderstorms.</p>"))
    touch_later(changed)
    (tiny_corpus / "flood.md").unlink()
    summary = update_index(index_of(tmp_path), tiny_corpus)
    assert (summary.added, summary.updated, summary.deleted, summary.unchanged) == (1, 1, 1, 4)
    with search.open_index(index_of(tmp_path)) as ix:
        assert [h.path for h in ix.search("volcano").hits] == ["new.md"]
        assert [h.path for h in ix.search("thunderstorms").hits] == ["heatwave.md"]
        assert ix.search("blackouts").total == 0
        assert ix.search("levee").total == 0


def test_touched_but_identical_file_is_not_reindexed(tmp_path: Path, tiny_corpus: Path) -> None:
    update_index(index_of(tmp_path), tiny_corpus)
    touch_later(tiny_corpus / "election.md")
    summary = update_index(index_of(tmp_path), tiny_corpus)
    assert (summary.updated, summary.unchanged) == (0, 6)


def test_a_touched_file_and_its_losing_duplicate_are_read_once_not_on_every_run(
        tmp_path: Path, tiny_corpus: Path, monkeypatch) -> None:
    """A file copied without its times (or touched) has the indexed content under a new mtime:
    one read finds that out, and later runs take its word for it, as for an unchanged file."""
    link = "https://news.example.org/a/strike"  # transit-strike.md's, and older: a losing duplicate
    (tiny_corpus / "copy.md").write_text(article_text("Old copy", "<p>Old.</p>", date="2026-01-01", link=link))
    update_index(index_of(tmp_path), tiny_corpus)
    touch_later(tiny_corpus / "transit-strike.md")
    import search.index.update as indexing
    read: list[str] = []
    original = indexing.read_file
    monkeypatch.setattr(indexing, "read_file", lambda job: read.append(job[0]) or original(job))
    summary = update_index(index_of(tmp_path), tiny_corpus)
    assert (summary.changed, summary.unchanged) == (0, 6)
    assert sorted(read) == ["copy.md", "transit-strike.md"]  # the duplicate's winner changed mtime
    read.clear()
    for _ in range(2):
        summary = update_index(index_of(tmp_path), tiny_corpus)
        assert (summary.changed, summary.unchanged) == (0, 6)
        assert [(s.path, s.repeated) for s in summary.skipped] == [("copy.md", True)]
    assert read == []
    # A real change after the touch is still seen.
    path = tiny_corpus / "transit-strike.md"
    path.write_text(path.read_text().replace("</p>", " Talks resume on Monday.</p>", 1))
    touch_later(path)
    assert update_index(index_of(tmp_path), tiny_corpus).updated == 1
    with search.open_index(index_of(tmp_path)) as ix:
        assert [hit.path for hit in ix.search("resume monday").hits] == ["transit-strike.md"]


def test_rename_is_a_delete_and_an_add(tmp_path: Path, tiny_corpus: Path) -> None:
    update_index(index_of(tmp_path), tiny_corpus)
    (tiny_corpus / "election.md").rename(tiny_corpus / "mayor-debate.md")
    summary = update_index(index_of(tmp_path), tiny_corpus)
    assert (summary.added, summary.deleted) == (1, 1)
    assert "mayor-debate.md" in all_paths(index_of(tmp_path))
    assert "election.md" not in all_paths(index_of(tmp_path))


def test_same_link_in_two_files_is_one_story_newest_date_wins(tmp_path: Path) -> None:
    corpus = tmp_path / "c"
    corpus.mkdir()
    link = "https://news.example.org/story?utm_source=rss"
    (corpus / "old.md").write_text(article_text("Story v1", "<p>First version.</p>", date="2026-01-01", link=link))
    (corpus / "new.md").write_text(article_text("Story v2", "<p>Second version.</p>", date="2026-01-02",
                                                link="https://NEWS.example.org/story#top"))
    summary = update_index(index_of(tmp_path), corpus)
    assert summary.total == 1
    assert [s.path for s in summary.skipped] == ["old.md"]
    assert "duplicate of new.md" in summary.skipped[0].reason
    with search.open_index(index_of(tmp_path)) as ix:
        assert [h.title for h in ix.search("story").hits] == ["Story v2"]


def test_a_newer_duplicate_arriving_later_replaces_the_indexed_one(tmp_path: Path) -> None:
    corpus = tmp_path / "c"
    corpus.mkdir()
    link = "https://news.example.org/story"
    (corpus / "a.md").write_text(article_text("Story v1", "<p>First version.</p>", date="2026-01-01", link=link))
    update_index(index_of(tmp_path), corpus)
    (corpus / "b.md").write_text(article_text("Story v2", "<p>Second version.</p>", date="2026-01-05", link=link))
    summary = update_index(index_of(tmp_path), corpus)
    assert summary.total == 1
    assert [s.path for s in summary.skipped] == ["a.md"]
    assert all_paths(index_of(tmp_path)) == {"b.md"}
    # And an older copy arriving later loses.
    (corpus / "c.md").write_text(article_text("Story v0", "<p>Zeroth.</p>", date="2025-12-01", link=link))
    summary = update_index(index_of(tmp_path), corpus)
    assert all_paths(index_of(tmp_path)) == {"b.md"}
    assert "c.md" in [s.path for s in summary.skipped]


def test_bad_files_are_skipped_with_reasons_and_the_rest_indexed(tmp_path: Path, tiny_corpus: Path) -> None:
    (tiny_corpus / "no-front-matter.md").write_text("just text\n")
    (tiny_corpus / "bad-yaml.md").write_text("---\ntitle: [unclosed\n---\n<p>x</p>\n")
    (tiny_corpus / "empty.md").write_bytes(b"")
    (tiny_corpus / "draft.md").write_text(article_text("Draft", "<p>Not yet.</p>", draft=True))
    (tiny_corpus / "notes.json").write_text("{}")  # not an article file: ignored silently
    summary = update_index(index_of(tmp_path), tiny_corpus)
    reasons = {s.path: s.reason for s in summary.skipped}
    assert set(reasons) == {"no-front-matter.md", "bad-yaml.md", "empty.md", "draft.md"}
    assert "draft" in reasons["draft.md"]
    assert summary.total == 6


def test_drafts_are_indexed_on_request(tmp_path: Path, tiny_corpus: Path) -> None:
    (tiny_corpus / "draft.md").write_text(article_text("Draft", "<p>Not yet published.</p>", draft=True))
    summary = update_index(index_of(tmp_path), tiny_corpus, include_drafts=True)
    assert summary.total == 7


def test_an_unchanged_draft_is_not_read_again_until_drafts_are_asked_for(tmp_path: Path, tiny_corpus: Path,
                                                                         monkeypatch) -> None:
    """A draft was read and reported as a new skip on every run (``--watch`` printed a line for it
    at every interval); now it is remembered like any skipped file."""
    (tiny_corpus / "draft.md").write_text(article_text("Draft", "<p>Not yet published zebras.</p>", draft=True))
    first = update_index(index_of(tmp_path), tiny_corpus)
    assert [(s.path, s.repeated) for s in first.skipped] == [("draft.md", False)]
    import search.index.update as indexing
    read: list[str] = []
    original = indexing.read_file
    monkeypatch.setattr(indexing, "read_file", lambda job: read.append(job[0]) or original(job))
    for _run in range(2):
        again = update_index(index_of(tmp_path), tiny_corpus)
        assert [(s.path, s.repeated) for s in again.skipped] == [("draft.md", True)] and read == []
    with_drafts = update_index(index_of(tmp_path), tiny_corpus, include_drafts=True)
    assert (with_drafts.added, with_drafts.skipped, read) == (1, [], ["draft.md"])


def test_rebuild_publishes_a_new_generation(tmp_path: Path, tiny_corpus: Path) -> None:
    update_index(index_of(tmp_path), tiny_corpus)
    first = current_generation(index_of(tmp_path))
    summary = update_index(index_of(tmp_path), tiny_corpus, rebuild=True)
    assert summary.rebuilt and summary.added == 6
    assert current_generation(index_of(tmp_path)) != first


def test_each_segment_keeps_its_date_order_and_a_damaged_one_is_written_again(tmp_path: Path,
                                                                                 tiny_corpus: Path) -> None:
    from array import array

    from search.index import storage
    from search.engine.segment import column_order

    def segments() -> dict[str, int]:
        with search.open_index(index_of(tmp_path)) as ix:
            return {leaf.reader().segment().segment_id(): leaf.reader().doc_count_all()
                    for leaf, _offset in ix._searcher().leaf_searchers()}

    update_index(index_of(tmp_path), tiny_corpus)
    (tiny_corpus / "late.md").write_text(article_text("Late news", "<p>Later.</p>", date="2026-12-01"))
    update_index(index_of(tmp_path), tiny_corpus)  # a second segment
    generation = current_generation(index_of(tmp_path))
    found = segments()
    assert len(found) == 2
    kept = sorted(path.name for path in generation.glob("dates-*.bin"))
    assert kept == sorted(f"dates-{segment_id}.bin" for segment_id in found)
    first = min(found)
    (generation / f"dates-{first}.bin").write_bytes(b"damaged")
    storage.write_date_order(generation, "MAIN_mergedaway", 1, array("q", [1]), array("q", [0]))
    update_index(index_of(tmp_path), tiny_corpus)  # nothing changed in the corpus
    assert sorted(path.name for path in generation.glob("dates-*.bin")) == kept
    with search.open_index(index_of(tmp_path)) as ix:
        reader = next(leaf.reader() for leaf, _offset in ix._searcher().leaf_searchers()
                      if leaf.reader().segment().segment_id() == first)
        kept_order = storage.read_date_order(generation, first, found[first])
        computed = column_order(reader, "date")
        assert kept_order is not None and computed is not None
        assert [list(kept_order[0]), list(kept_order[1])] == [computed[0].tolist(), computed[1].tolist()]


def test_api_added_articles_survive_a_corpus_update(tmp_path: Path, tiny_corpus: Path) -> None:
    update_index(index_of(tmp_path), tiny_corpus)
    extra = search.load_article(tiny_corpus / "flood.md")
    from dataclasses import replace
    made = replace(extra, id="made-by-a-bot", path="bot/1", title="Bot bulletin about tornado")
    with search.open_index(index_of(tmp_path)) as ix:
        ix.add(made)
        assert [h.id for h in ix.search("tornado").hits] == ["made-by-a-bot"]
    update_index(index_of(tmp_path), tiny_corpus)
    with search.open_index(index_of(tmp_path)) as ix:
        assert ix.search("tornado").total == 1
        assert ix.delete("made-by-a-bot")
        assert ix.search("tornado").total == 0
        assert not ix.delete("made-by-a-bot")


def test_unchanged_bad_files_are_not_read_again(tmp_path: Path, tiny_corpus: Path, monkeypatch) -> None:
    (tiny_corpus / "broken.md").write_text("---\ntitle: [oops\n---\nbody\n")
    first = update_index(index_of(tmp_path), tiny_corpus)
    assert [(s.path, s.repeated) for s in first.skipped] == [("broken.md", False)]
    import search.index.update as indexing
    read: list[str] = []
    original = indexing.read_file
    monkeypatch.setattr(indexing, "read_file", lambda job: read.append(job[0]) or original(job))
    second = update_index(index_of(tmp_path), tiny_corpus)
    assert [(s.path, s.repeated) for s in second.skipped] == [("broken.md", True)]
    third = update_index(index_of(tmp_path), tiny_corpus)  # was read again: a repeat was forgotten
    assert [(s.path, s.repeated) for s in third.skipped] == [("broken.md", True)]
    assert read == []
    (tiny_corpus / "broken.md").write_text(article_text("Fixed now", "<p>Repaired text about zebras.</p>"))
    touch_later(tiny_corpus / "broken.md")
    fixed = update_index(index_of(tmp_path), tiny_corpus)
    assert fixed.added == 1 and fixed.skipped == []


def test_a_bad_new_version_keeps_the_last_good_one(tmp_path: Path, tiny_corpus: Path) -> None:
    update_index(index_of(tmp_path), tiny_corpus)
    (tiny_corpus / "flood.md").write_text("---\ntitle: [broken\n---\n")
    touch_later(tiny_corpus / "flood.md")
    summary = update_index(index_of(tmp_path), tiny_corpus)
    assert [s.path for s in summary.skipped] == ["flood.md"]
    with search.open_index(index_of(tmp_path)) as ix:
        assert ix.search("levee").total == 1


def test_an_article_turned_draft_leaves_the_index(tmp_path: Path, tiny_corpus: Path) -> None:
    update_index(index_of(tmp_path), tiny_corpus)
    (tiny_corpus / "flood.md").write_text(article_text("River floods town", "<p>levee text</p>", draft=True))
    touch_later(tiny_corpus / "flood.md")
    summary = update_index(index_of(tmp_path), tiny_corpus)
    assert summary.deleted == 1 and summary.total == 5
    with search.open_index(index_of(tmp_path)) as ix:
        assert ix.search("levee").total == 0


def test_a_skipped_duplicate_returns_when_the_winner_goes(tmp_path: Path) -> None:
    corpus = tmp_path / "c"
    corpus.mkdir()
    link = "https://news.example.org/story"
    (corpus / "a.md").write_text(article_text("Story old", "<p>Old.</p>", date="2026-01-01", link=link))
    (corpus / "b.md").write_text(article_text("Story new", "<p>New.</p>", date="2026-01-05", link=link))
    update_index(index_of(tmp_path), corpus)
    assert all_paths(index_of(tmp_path)) == {"b.md"}
    again = update_index(index_of(tmp_path), corpus)
    assert [(s.path, s.repeated) for s in again.skipped] == [("a.md", True)]
    (corpus / "b.md").unlink()
    summary = update_index(index_of(tmp_path), corpus)
    assert all_paths(index_of(tmp_path)) == {"a.md"}
    assert summary.added == 1 and summary.deleted == 1


def test_unchanged_bad_files_and_duplicates_are_not_read_again_on_any_later_run(
        tmp_path: Path, tiny_corpus: Path, monkeypatch) -> None:
    """Regression (found by the differential test in test_robustness.py): a skip reported as
    repeated was not remembered again, so every other run read the unchanged file again."""
    (tiny_corpus / "broken.md").write_text("---\ntitle: [oops\n---\nbody\n")
    link = "https://news.example.org/a/strike"  # transit-strike.md's, and older: a losing duplicate
    (tiny_corpus / "copy.md").write_text(article_text("Old copy", "<p>Old.</p>", date="2026-01-01", link=link))
    update_index(index_of(tmp_path), tiny_corpus)
    import search.index.update as indexing
    read: list[str] = []
    original = indexing.read_file
    monkeypatch.setattr(indexing, "read_file", lambda job: read.append(job[0]) or original(job))
    for _ in range(3):
        summary = update_index(index_of(tmp_path), tiny_corpus)
        assert sorted((s.path, s.repeated) for s in summary.skipped) == [("broken.md", True), ("copy.md", True)]
    assert read == []


@pytest.mark.parametrize(("zone", "held", "new", "winner"), [
    ("America/New_York", "2026-01-02", "2026-01-02", "b.md"),  # the same date: the newer file wins
    ("Asia/Kolkata", "2026-01-02T03:00:00Z", "2026-01-02", "a.md"),  # three hours older: it loses
])
def test_duplicates_are_decided_in_utc_whatever_the_local_time_zone(
        tmp_path: Path, zone: str, held: str, new: str, winner: str) -> None:
    """Regression (found by the differential test in test_robustness.py): on an update, the
    indexed copy's date (naive UTC in the index) was compared with the new file's (aware) as if
    it were local time, so outside UTC an update and a rebuild kept different copies."""
    corpus = tmp_path / "c"
    corpus.mkdir()
    link = "https://news.example.org/story"
    saved = os.environ.get("TZ")
    os.environ["TZ"] = zone
    time.tzset()
    try:
        (corpus / "a.md").write_text(article_text("Story v1", "<p>First.</p>", date=held, link=link))
        update_index(index_of(tmp_path), corpus)
        (corpus / "b.md").write_text(article_text("Story v2", "<p>Second.</p>", date=new, link=link))
        touch_later(corpus / "b.md")
        summary = update_index(index_of(tmp_path), corpus)
        rebuilt = update_index(tmp_path / "rebuilt", corpus, rebuild=True)
    finally:
        if saved is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = saved
        time.tzset()
    assert all_paths(index_of(tmp_path)) == all_paths(tmp_path / "rebuilt") == {winner}
    assert {(s.path, s.reason) for s in summary.skipped} == {(s.path, s.reason) for s in rebuilt.skipped}


def test_a_duplicate_names_the_copy_that_is_indexed_even_when_its_winner_lost_too(tmp_path: Path) -> None:
    """Regression (found by the differential test in test_robustness.py): a copy was reported as
    the duplicate of the copy that beat it, which could itself lose in the same run (to a copy
    read later in a build, or to a newer copy added by an update), so the reason named a file
    that was not indexed, and a build and an update said different things."""
    corpus = tmp_path / "c"
    corpus.mkdir()
    link = "https://news.example.org/story"

    def copy(name: str, day: int) -> None:
        (corpus / name).write_text(article_text(f"Story {day}", "<p>Text.</p>", date=f"2026-01-{day:02}", link=link))

    for day, name in enumerate(["k.md", "b.md", "x.md", "e.md", "q.md", "a.md"], 1):  # listed in any order
        copy(name, day)
    summary = update_index(index_of(tmp_path), corpus)
    assert all_paths(index_of(tmp_path)) == {"a.md"}
    assert {s.path: s.reason.split(" (")[0] for s in summary.skipped} == {
        name: "duplicate of a.md" for name in ["k.md", "b.md", "x.md", "e.md", "q.md"]}
    copy("new.md", 9)  # beats a.md; the remembered skips named a.md
    summary = update_index(index_of(tmp_path), corpus)
    assert all_paths(index_of(tmp_path)) == {"new.md"}
    assert {s.path: s.reason.split(" (")[0] for s in summary.skipped} == {
        name: "duplicate of new.md" for name in ["k.md", "b.md", "x.md", "e.md", "q.md", "a.md"]}
    again = update_index(index_of(tmp_path), corpus)  # and they stay skipped without being read
    assert all(s.repeated and s.reason.startswith("duplicate of new.md") for s in again.skipped)


def test_a_rewritten_copy_is_judged_by_its_new_version_not_the_indexed_one(tmp_path: Path) -> None:
    """Regression (found by the differential test in test_robustness.py): an update compared a
    new or returning copy of a story with the indexed version of a file that this same run had
    read again, so when the indexed copy was rewritten older (or given another link) neither
    copy was indexed, each reported as the duplicate of the other, until the next update."""
    corpus = tmp_path / "c"
    corpus.mkdir()
    link, other_link = "https://news.example.org/story", "https://news.example.org/other"
    (corpus / "a.md").write_text(article_text("Story A", "<p>Text.</p>", date="2026-01-02", link=link))
    (corpus / "b.md").write_text(article_text("Story B", "<p>Text.</p>", date="2026-01-01", link=link))
    update_index(index_of(tmp_path), corpus)
    assert all_paths(index_of(tmp_path)) == {"a.md"}
    # a.md, rewritten with an older date, now loses to b.md.
    (corpus / "a.md").write_text(article_text("Story A, corrected", "<p>Text.</p>", date="2025-12-31", link=link))
    touch_later(corpus / "a.md")
    summary = update_index(index_of(tmp_path), corpus)
    assert all_paths(index_of(tmp_path)) == {"b.md"}
    assert [(s.path, s.reason.split(" (")[0]) for s in summary.skipped] == [("a.md", "duplicate of b.md")]
    # b.md now tells another story; a new, older copy of the first one is the only one left.
    (corpus / "b.md").write_text(article_text("Story B", "<p>Text.</p>", date="2026-01-03", link=other_link))
    touch_later(corpus / "b.md")
    (corpus / "a.md").unlink()
    (corpus / "c.md").write_text(article_text("Story C", "<p>Text.</p>", date="2020-01-01", link=link))
    summary = update_index(index_of(tmp_path), corpus)
    assert all_paths(index_of(tmp_path)) == {"b.md", "c.md"} and summary.skipped == []


def _kept_unreadable(tmp_path: Path, date: str | None) -> Path:
    """A corpus whose one article (dated ``date``) was indexed and then became unreadable:
    the index keeps its last good version."""
    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "d.md").write_text(article_text("Story D", "<p>Text.</p>", date=date, link="https://news.example.org/s"))
    update_index(index_of(tmp_path), corpus)
    (corpus / "d.md").write_text("no front matter\n")
    touch_later(corpus / "d.md")
    assert update_index(index_of(tmp_path), corpus).total == 1
    return corpus


def test_an_older_copy_of_a_kept_unreadable_file_is_not_read_again_on_every_run(tmp_path: Path) -> None:
    """Regression (found by the differential test in test_robustness.py): a duplicate stayed
    skipped only while its winner's file was unchanged, so the loser to a file kept at its last
    good version was read again on every run."""
    corpus = _kept_unreadable(tmp_path, "2026-01-02")
    (corpus / "a.md").write_text(article_text("Story A", "<p>Text.</p>", date="2019-12-31",
                                              link="https://news.example.org/s"))
    first = update_index(index_of(tmp_path), corpus)
    assert ("a.md", False) in [(s.path, s.repeated) for s in first.skipped]
    for _ in range(2):
        again = update_index(index_of(tmp_path), corpus)
        assert sorted((s.path, s.reason.split(" (")[0], s.repeated) for s in again.skipped) == [
            ("a.md", "duplicate of d.md", True),
            ("d.md", "no front matter: the file must start with a '---' line", True)]
    assert all_paths(index_of(tmp_path)) == {"d.md"}


def test_an_unreadable_file_whose_kept_version_loses_is_reported_as_unreadable(tmp_path: Path) -> None:
    """Regression (found by the differential test in test_robustness.py): when a newer copy
    replaced the version kept of an unreadable file, the file was reported and remembered as a
    duplicate of the new copy, not as unreadable (what a rebuild says)."""
    corpus = _kept_unreadable(tmp_path, None)
    (corpus / "a.md").write_text(article_text("Story A", "<p>Text.</p>", date="2019-12-31",
                                              link="https://news.example.org/s"))
    for _ in range(2):
        summary = update_index(index_of(tmp_path), corpus)
        assert all_paths(index_of(tmp_path)) == {"a.md"}
        assert [(s.path, s.reason) for s in summary.skipped] == [
            ("d.md", "no front matter: the file must start with a '---' line")]
    rebuilt = update_index(tmp_path / "rebuilt", corpus, rebuild=True)
    assert [(s.path, s.reason) for s in rebuilt.skipped] == [(s.path, s.reason) for s in summary.skipped]
