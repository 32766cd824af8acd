"""Requests per second of ``newsearch serve``'s JSON API on loopback, measured with wrk.

    python benchmarks/web_load.py INDEX [INDEX ...] [--workers 1 2] [--connections 16]
        [--duration 20] [--threads 2] [--queries benchmarks/queries.txt] [--page api|html]
        [--server-threads 8 40]

For each index folder and each worker count, in that order: start
``python -m search serve --index INDEX --port PORT --workers N [--threads T]`` (the real
server, uvicorn),
wait until it answers, warm it up (every query once per connection, concurrently; not with
``--cold``), then run

    wrk -t THREADS -c CONNECTIONS -d DURATIONs --latency -s ROTATE.lua http://127.0.0.1:PORT

where ROTATE.lua sends ``/api/search?q=QUERY`` (or ``/?q=QUERY`` with ``--page html``) for
each line of ``--queries`` in turn, so every connection walks the whole query set. Prints
one Markdown table row per run: requests/s, latency p50/p99, non-2xx responses. wrk is
Debian's (``apt-get install wrk``); nothing else is needed beyond the project's web extra.
The load generator shares the machine's cores with the server: read ratios within one run.
"""
from __future__ import annotations

import argparse
import re
import socket
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
import time
import urllib.parse
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent

LUA = """\
paths = {%s}
counter = 0
request = function()
  counter = counter + 1
  return wrk.format("GET", paths[(counter %% #paths) + 1])
end
"""


def free_port() -> int:
    """A loopback port nobody listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def read_queries(path: Path) -> list[str]:
    """The query set: one query a line, '#' lines are comments."""
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.startswith("#")]


def wait_until_up(base: str, process: subprocess.Popen[bytes], seconds: float = 60) -> None:
    """Return once ``base`` answers; fail if the server died or took too long."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    deadline = time.monotonic() + seconds
    while True:
        if process.poll() is not None:
            raise SystemExit(f"newsearch serve exited with {process.returncode}")
        try:
            with opener.open(base + "/", timeout=2):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise SystemExit("newsearch serve did not answer") from None
            time.sleep(0.1)


def warm_up(base: str, paths: list[str], connections: int) -> None:
    """Every query once per connection, all at once: each of the server's threads has a searcher
    of its own whose caches warm separately (a fuzzy word's first expansion on Reuters takes
    0.7-1.2 s), so a warm-up one request at a time would leave most threads cold."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def walk(_connection: int) -> None:
        for path in paths:
            try:
                with opener.open(base + path, timeout=60) as response:
                    response.read()
            except OSError:
                pass  # a refused query is answered with 400; wrk counts those as non-2xx

    with ThreadPoolExecutor(connections) as pool:
        list(pool.map(walk, range(connections)))


def run_wrk(base: str, script: Path, args: argparse.Namespace) -> dict[str, str]:
    """wrk's figures for one run: requests/s, p50, p99 and non-2xx responses."""
    command = ["wrk", "-t", str(args.threads), "-c", str(args.connections), "-d", f"{args.duration}s",
               "--latency", "-s", str(script), base]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout

    def find(pattern: str, default: str = "0") -> str:
        match = re.search(pattern, output)
        return match.group(1) if match else default

    return {"rps": find(r"Requests/sec:\s+([\d.]+)"), "p50": find(r"(?m)^\s+50%\s+(\S+)"),
            "p99": find(r"(?m)^\s+99%\s+(\S+)"),
            "non2xx": find(r"Non-2xx or 3xx responses:\s+(\d+)"), "requests": find(r"(\d+) requests in")}


def measure(index: Path, workers: int, threads: int, script: Path, paths: list[str],
            args: argparse.Namespace) -> dict[str, str]:
    """Start the server on ``index`` with ``workers`` processes, load it, stop it."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "search", "serve", "--index", str(index), "--port", str(port),
               "--workers", str(workers)] + (["--threads", str(threads)] if threads else [])
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until_up(base, process)
        if not args.cold:
            warm_up(base, paths, args.connections)
        return run_wrk(base, script, args)
    finally:
        process.terminate()
        process.wait(timeout=30)


def main() -> None:
    """Measure every index with every worker count and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("indexes", nargs="+", type=Path)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--duration", type=int, default=20)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--queries", type=Path, default=HERE / "queries.txt")
    parser.add_argument("--page", choices=["api", "html"], default="api")
    parser.add_argument("--cold", action="store_true", help="no warm-up: measure from the server's start")
    parser.add_argument("--server-threads", type=int, nargs="+", default=[0],
                        help="newsearch serve --threads values to measure (0: its default)")
    args = parser.parse_args()
    prefix = "/api/search?q=" if args.page == "api" else "/?q="
    paths = [prefix + urllib.parse.quote(query, safe="") for query in read_queries(args.queries)]
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
        lua.write(LUA % ", ".join(f'"{path}"' for path in paths))
    print(f"| index | workers | threads | requests/s | p50 | p99 | requests | non-2xx |  ({args.connections} "
          f"connections, {args.duration} s, {len(paths)} queries in turn, {prefix}…)")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for index in args.indexes:
        for workers in args.workers:
            for threads in args.server_threads:
                row = measure(index, workers, threads, Path(lua.name), paths, args)
                print(f"| {index.name} | {workers} | {threads or 'default'} | {row['rps']} | {row['p50']} | "
                      f"{row['p99']} | {row['requests']} | {row['non2xx']} |", flush=True)
    Path(lua.name).unlink()


if __name__ == "__main__":
    main()
