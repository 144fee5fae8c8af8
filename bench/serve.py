"""``tracegrad serve`` under load: latency of derive and check of the seed problem with 1, 10 and
50 concurrent clients, as ratios to the same work done in process, and the server's memory
(its process and its workers) over 10,000 requests.

The server is started as a user starts it (``python -m tracegrad serve``) on a free loopback
port; clients are threads, each with its own keep-alive connection, sending one request after
another. Two cases: the same body every time (a class opening the worked example: the reply
cache answers) and a different body every time (a comment line numbers each request, so every
request is worked out by a worker).
"""

from __future__ import annotations

import http.client
import json
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEED = (ROOT / "examples" / "seed.toml").read_text(encoding="utf-8")
PRINTED = (ROOT / "examples" / "seed_printed.toml").read_text(encoding="utf-8")
BODIES = {"derive": lambda tag: {"problem": SEED + tag}, "check": lambda tag: {"problem": SEED + tag, "answers": PRINTED}}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``python -m tracegrad serve --workers N [ARGS]`` in a subprocess, stopped on exit."""

    def __init__(self, workers: int, args=(), cwd=ROOT):
        self.port = _free_port()
        self.proc = subprocess.Popen([sys.executable, "-m", "tracegrad", "serve", "--port", str(self.port),
                                      "--workers", str(workers), *args], cwd=cwd, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while True:  # the server listens once its workers are ready
            try:
                conn = self.connection()
                conn.request("GET", "/static/style.css")
                conn.getresponse().read()
                conn.close()
                break
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("tracegrad serve did not start") from None
                time.sleep(0.2)

    def connection(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)

    def post(self, endpoint: str, body: dict, conn=None) -> None:
        own = conn is None
        conn = conn or self.connection()
        conn.request("POST", f"/api/{endpoint}", json.dumps(body), {"Content-Type": "application/json"})
        response = conn.getresponse()
        response.read()
        if own:
            conn.close()
        if response.status != 200:
            raise AssertionError(f"/api/{endpoint} answered {response.status}")

    def rss_bytes(self) -> tuple:
        """Resident memory ``(of the server process, of it and every process below it: the forkserver,
        the workers)``."""
        sizes, todo = [], [self.proc.pid]
        while todo:
            pid = todo.pop(0)
            try:
                status = Path(f"/proc/{pid}/status").read_text()
                sizes.append(int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS")))
                             * 1024)
                for task in Path(f"/proc/{pid}/task").iterdir():
                    todo += [int(c) for c in (task / "children").read_text().split()]
            except (FileNotFoundError, ProcessLookupError):
                continue
        return sizes[0], sum(sizes)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.proc.terminate()
        self.proc.wait(timeout=30)


def load(server: Server, endpoint: str, clients: int, per_client: int, distinct: str | None = None) -> list:
    """Latencies (seconds) of ``clients × per_client`` requests, each client one after another; with
    ``distinct`` (a label), every body is made different by a comment line."""
    latencies: list = []
    lock = threading.Lock()
    failures: list = []

    def client(k: int) -> None:
        conn = server.connection()
        mine = []
        try:
            for i in range(per_client):
                body = BODIES[endpoint]("" if distinct is None else f"\n# {distinct}: client {k}, request {i}\n")
                start = time.perf_counter()
                server.post(endpoint, body, conn)
                mine.append(time.perf_counter() - start)
        except Exception as exc:  # reported after the threads stop
            failures.append(exc)
        finally:
            conn.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if failures:
        raise AssertionError(f"a request failed under load: {failures[0]}")
    return latencies


def percentile(values: list, p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def in_process_seconds(repeats: int) -> dict:
    """Median time of the same work in process, through the same adapter the workers call."""
    from tracegrad.serve import api

    work = {"derive": lambda: api.derive_output(SEED), "check": lambda: api.check_output(SEED, PRINTED)}
    out = {}
    for name, run in work.items():
        run()
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            run()
            times.append(time.perf_counter() - start)
        out[name] = statistics.median(times)
    return out


def section(config, report) -> None:
    """The ``serve`` section of ``bench/run``."""
    levels = [int(c) for c in config.serve_clients.split(",")]
    per_client = config.serve_per_client
    base = in_process_seconds(max(5, config.repeats * 4))
    print(f"\ntracegrad serve (2 workers) on the seed problem: {per_client} requests per client, each client "
          "one after another; ratios to the same work in process")
    print("  in process: " + ", ".join(f"{k} {v * 1e3:.2f} ms" for k, v in base.items())
          + "  (check: the document's 43 printed numbers)")
    print(f"  {'':28}{'clients':>4}{'p50':>10}{'p95':>10}{'p50/in-process':>16}{'p95/in-process':>16}")
    with Server(workers=2) as server:
        for distinct, case in ((None, "same body (cached)"), ("latency", "distinct bodies")):
            for endpoint in ("derive", "check"):
                for clients in levels:
                    times = load(server, endpoint, clients, per_client, distinct and f"{distinct} {clients}")
                    p50, p95 = percentile(times, 50), percentile(times, 95)
                    key = f"{endpoint}_{'distinct' if distinct else 'cached'}_{clients}"
                    report.figure("serve", key, endpoint=endpoint, clients=clients, requests=len(times),
                                  cached=not distinct, p50_seconds=p50, p95_seconds=p95,
                                  in_process_seconds=base[endpoint], p50_ratio=p50 / base[endpoint],
                                  p95_ratio=p95 / base[endpoint])
                    print(f"  {endpoint + ', ' + case:28}{clients:4}{p50 * 1e3:8.2f}ms{p95 * 1e3:8.2f}ms"
                          f"{p50 / base[endpoint]:15.1f}×{p95 / base[endpoint]:15.1f}×")
                    if clients == 10:
                        report.target(f"p95 of {endpoint} at 10 clients, {case} (ms)", p95 * 1e3, "≤ 50")
    total = config.serve_requests
    first = min(1000, total)
    with Server(workers=2) as server:
        rss, done = {0: server.rss_bytes()}, 0
        start = time.perf_counter()
        for mark in sorted({first, total // 2, total}):
            per_client = max(1, (mark - done) // 20)  # 10 clients, a derive and a check each
            for endpoint in ("derive", "check"):
                load(server, endpoint, 10, per_client, f"memory {mark}")
            done += 20 * per_client
            rss[done] = server.rss_bytes()
        seconds = time.perf_counter() - start
    report.figure("serve", "memory", requests=done, seconds=seconds,
                  rss_bytes={str(k): total for k, (_, total) in rss.items()},
                  server_rss_bytes={str(k): server for k, (server, _) in rss.items()})
    print(f"  resident memory over {done:,} requests (distinct bodies, half derive, half check, 10 clients; {seconds:.0f} s),"
          " all processes (server alone): "
          + ", ".join(f"{t / 2 ** 20:.1f} MB ({s / 2 ** 20:.1f}) after {k:,}" for k, (s, t) in rss.items()))
    after_first = [total for k, (_, total) in rss.items() if k >= first]
    report.target(f"memory growth after the first {first:,} requests (MB)",
                  (max(after_first) - after_first[0]) / 2 ** 20, "≤ 20")
