"""Losing a node of the three: SIGKILL the leader while searches run. Searches go on through
the other nodes; once the two left elect a leader, updates work again; nothing committed is
lost; the node started again catches up."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
import urllib.request
from pathlib import Path

import pytest

import search
from tests.conftest import article_text
from tests.remote.conftest import Cluster
from tests.remote.test_cluster import index_sample, newsearch

pytestmark = pytest.mark.slow


def node_state(port: int, key: str) -> int | None:
    """A node's Raft state from /debug (1: leader, 4: follower), or None when it does not answer."""
    request = urllib.request.Request(f"http://127.0.0.1:{port}/debug", headers={"X-TYPESENSE-API-KEY": key})
    try:
        with urllib.request.urlopen(request, timeout=2) as answer:
            return int(json.load(answer).get("state", 0))
    except (OSError, ValueError):
        return None


def healthy(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as answer:
            return bool(json.load(answer).get("ok"))
    except (OSError, ValueError):
        return False


def restart(cluster: Cluster, node: dict) -> None:
    """Start a killed node again with its own command line, and wait until it is healthy."""
    log = Path(node["argv"][1].split("=", 1)[1]) / "stdout.log"
    with log.open("ab") as out:
        node["pid"] = subprocess.Popen(node["argv"], stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                       start_new_session=True).pid
    nodes = [node if other["api_port"] == node["api_port"] else other for other in cluster.nodes()]
    cluster.save_nodes(nodes)
    deadline = time.monotonic() + 90
    while not healthy(node["api_port"]):
        assert time.monotonic() < deadline, "the restarted node did not catch up in 90 s"
        time.sleep(0.5)


def test_killing_the_leader_keeps_searches_and_updates_working(cluster: Cluster, tmp_path: Path) -> None:
    import shutil
    from tests.conftest import SAMPLE_CORPUS

    corpus = Path(shutil.copytree(SAMPLE_CORPUS, tmp_path / "corpus"))
    index_sample(cluster, corpus)
    leader = next((node for node in cluster.nodes() if node_state(node["api_port"], cluster.api_key) == 1), None)
    assert leader is not None, "no node says it leads"
    answers: list[int] = []
    failures: list[str] = []
    stop = threading.Event()

    def search_all_along() -> None:
        with search.open_index(cluster.url) as index:
            while not stop.is_set():
                try:
                    answers.append(index.search("fire").total)
                except search.SearchError as error:
                    failures.append(str(error))
                time.sleep(0.05)

    searching = threading.Thread(target=search_all_along)
    searching.start()
    try:
        time.sleep(0.5)
        os.kill(leader["pid"], signal.SIGKILL)
        killed_at = len(answers)
        (corpus / "after-the-loss.md").write_text(
            article_text("Quorum holds", "<p>The xylocarp survived the outage.</p>", date="2026-11-21"), encoding="utf-8")
        done = newsearch("index", corpus, "--engine", cluster.url, "--json")
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["added"] == 1
        time.sleep(1.0)
    finally:
        stop.set()
        searching.join()
        restart(cluster, leader)
    assert not failures, failures[:3]
    assert len(answers) > killed_at  # searches went on after the kill
    assert set(answers) == {10}
    with search.open_index(cluster.url) as index:
        assert index.stats().articles == 51  # nothing committed before the loss is gone
        assert [hit.path for hit in index.search("xylocarp").hits] == ["after-the-loss.md"]
