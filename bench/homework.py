"""A class doing homework (``bench/run --only homework``): simulated students each checking their
answers several times against one ``tracegrad serve --assignment examples/seed.toml``, with the
class's work in SQLite and in PostgreSQL.

Each student (:mod:`bench.students`: the seed problem worked by hand in plain numpy, 0–2 slips,
4 decimals) checks as they go: check k of n sends the first k/n of the boxes, in derivation order,
the last one every box. Students are threads, each with its own keep-alive connection, all working
at once, in two paces: a class at work (between two checks a student thinks 0–``think`` seconds,
seeded), and a burst (no pause at all: every student checking again the moment the reply comes,
which measures how many checks a second one server process takes). Measured: the latency of each
check (p50, p95) as ratios to the same check in process (``workflows.check`` on the same answers,
no HTTP, no database), the checks per second, that every check was stored (the submissions counted
in the database and the attempts in the teacher's CSV equal the checks sent), and the server's
resident memory after the first 200 checks of the class at work and at its end.
"""

from __future__ import annotations

import csv
import io
import json
import random
import statistics
import tempfile
import threading
import time
import uuid
from pathlib import Path

from . import students
from .grading import simulated_answers
from .serve import Server, percentile

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "examples" / "seed.toml"
TOKEN = "bench-teacher-token"
MEMORY_AFTER = 200


def class_answers(count: int, seed: int) -> list:
    """Per student, their answers ``{box name: text}`` in derivation order (the assignment's boxes)."""
    from tracegrad.classroom.assignment import load_assignment
    from tracegrad.core.nested import cells
    from tracegrad.problem.schema import read_file

    assignment = load_assignment(SEED)
    subject = assignment.subject("")
    table = read_file(SEED)
    names = [q for q in subject.quantities if q not in subject.unprinted]
    candidates = students.candidates(table, names, students.aliases_of(subject, names))
    node_of = {e.node: e.key for e in assignment.elements}
    order = {e.key: e.index for e in assignment.elements}
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        worked = simulated_answers(table, names, candidates, rng)
        typed = {}
        for name, value in worked.items():
            for (_, node), (_, number) in zip(cells(subject.quantities[name]), cells(value)):
                if node in node_of and node_of[node] not in typed:
                    typed[node_of[node]] = str(number)
        out.append(dict(sorted(typed.items(), key=lambda item: order[item[0]])))
    return out


def checks_of(answers: dict, n: int) -> list:
    """The ``n`` checks of a student who checks as they go: the first k/n of the boxes, k = 1 … n."""
    keys = list(answers)
    return [{key: answers[key] for key in keys[:max(1, round(len(keys) * k / n))]} for k in range(1, n + 1)]


def in_process_seconds(answers: list, n: int) -> float:
    """Median time of one check in process: the same answers judged by ``workflows.check``."""
    from tracegrad.classroom.assignment import load_assignment
    from tracegrad.workflows.check import check

    assignment = load_assignment(SEED)
    subject = assignment.subject("")
    times = []
    for typed in answers[:20]:
        for partial in checks_of(typed, n):
            values = assignment.read_answers(partial)
            start = time.perf_counter()
            check(subject, values)
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def run_class(server: Server, answers: list, n: int, think: float, seed: int, name: str = "Student") -> tuple:
    """Every student's ``n`` checks at once; returns ``(latencies, seconds, resident memory after the
    first MEMORY_AFTER checks, at the end)``."""
    latencies, failures, lock = [], [], threading.Lock()
    done = [0]
    memory = {}
    finished = threading.Event()

    def student(k: int) -> None:
        rng = random.Random(seed * 100_003 + k)
        conn = server.connection()
        student_name = f"{name} {k:03d}"
        try:
            time.sleep(rng.uniform(0, think))
            for partial in checks_of(answers[k], n):
                body = json.dumps({"student": student_name, "answers": partial})
                if think:  # after a pause the server has closed the idle connection, as a browser finds
                    conn.close()
                    conn = server.connection()
                start = time.perf_counter()
                conn.request("POST", "/a/seed/check", body, {"Content-Type": "application/json"})
                response = conn.getresponse()
                response.read()
                elapsed = time.perf_counter() - start
                if response.status != 200:
                    raise AssertionError(f"a check answered {response.status}")
                with lock:
                    latencies.append(elapsed)
                    done[0] += 1
                time.sleep(rng.uniform(0, think))
        except Exception as exc:  # reported after the threads stop
            failures.append(exc)
        finally:
            conn.close()

    def watch() -> None:
        while not finished.is_set():
            if MEMORY_AFTER not in memory and done[0] >= MEMORY_AFTER:
                memory[MEMORY_AFTER] = server.rss_bytes()[1]
            time.sleep(0.02)

    watcher = threading.Thread(target=watch)
    watcher.start()
    threads = [threading.Thread(target=student, args=(k,)) for k in range(len(answers))]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - start
    finished.set()
    watcher.join()
    if failures:
        raise AssertionError(f"a check failed under load: {failures[0]}")
    return latencies, seconds, memory.get(MEMORY_AFTER, server.rss_bytes()[1]), server.rss_bytes()[1]


def stored(server: Server, database: str) -> tuple:
    """``(submissions in the database, attempts summed over the teacher's CSV)``."""
    from tracegrad.classroom.store import Store

    store = Store(database)
    try:
        count = store.count("seed")
    finally:
        store.close()
    conn = server.connection()
    conn.request("GET", "/teacher/seed/grades.csv", headers={"Authorization": f"Bearer {TOKEN}"})
    text = conn.getresponse().read().decode("utf-8")
    conn.close()
    return count, sum(int(row["attempts"]) for row in csv.DictReader(io.StringIO(text)))


def postgres_database(server_url: str):
    """A fresh database on ``server_url`` for one run: ``(url, drop)``."""
    import psycopg

    name = f"tracegrad_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(server_url, autocommit=True, connect_timeout=5) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop():
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    return f"{server_url.rsplit('/', 1)[0]}/{name}", drop


def section(config, report) -> None:
    """The ``homework`` section of ``bench/run``."""
    import os

    count, n, think = config.homework_students, config.homework_checks, config.homework_think
    answers = class_answers(count, config.seed)
    base = in_process_seconds(answers, n)
    print(f"\na class doing homework: {count} students each checking {n} times (as they go: the first k/{n} of "
          "the 34 boxes), all at once, against one tracegrad serve --assignment examples/seed.toml; ratios to the "
          "same check in process")
    print(f"  in process (workflows.check on the same answers, median): {base * 1e3:.2f} ms")
    backends = [("SQLite", None)]
    postgres = config.homework_postgres or os.environ.get("TRACEGRAD_TEST_POSTGRES")
    if postgres:
        backends.append(("PostgreSQL", postgres))
    else:
        print("  PostgreSQL: not measured (no server: give --homework-postgres postgresql://USER@HOST:PORT/DB)")
    print(f"  {'':28}{'checks':>7}{'p50':>10}{'p95':>10}{'p50/in-proc':>12}{'p95/in-proc':>12}{'per s':>7}"
          f"{'stored':>7}{'in CSV':>7}")
    for label, server_url in backends:
        with tempfile.TemporaryDirectory(prefix="tracegrad-homework-") as folder:
            drop = None
            if server_url is None:
                database = f"sqlite:///{Path(folder) / 'data' / 'classroom.sqlite3'}"
                where = ["--data", str(Path(folder) / "data")]
            else:
                database, drop = postgres_database(server_url)
                where = ["--database", database]
            try:
                with Server(1, ["--assignment", str(SEED), "--teacher-token", TOKEN, *where], cwd=folder) as server:
                    runs = {}
                    for pace, pause in (("class", think), ("burst", 0.0)):
                        runs[pace] = run_class(server, answers, n, pause, config.seed, name=pace)
                    rows, attempts = stored(server, database.replace("postgresql://", "postgresql+psycopg://"))
            finally:
                if drop is not None:
                    drop()
        for pace, (latencies, seconds, early, end) in runs.items():
            p50, p95 = percentile(latencies, 50), percentile(latencies, 95)
            title = f"{label}, {'thinking 0–' + format(think, 'g') + ' s' if pace == 'class' else 'no pause'}"
            report.figure("homework", f"{label.lower()}_{pace}", students=count, checks_each=n,
                          think_seconds=think if pace == "class" else 0.0, checks=len(latencies), seconds=seconds,
                          p50_seconds=p50, p95_seconds=p95, in_process_seconds=base, p50_ratio=p50 / base,
                          p95_ratio=p95 / base, checks_per_second=len(latencies) / seconds)
            stored_text = f"{rows:7}{attempts:7}" if pace == "burst" else ""
            print(f"  {title:28}{len(latencies):7}{p50 * 1e3:8.1f}ms{p95 * 1e3:8.1f}ms{p50 / base:11.1f}×"
                  f"{p95 / base:11.1f}×{len(latencies) / seconds:7.1f}{stored_text}")
        sent = sum(len(run[0]) for run in runs.values())
        _, _, early, end = runs["class"]
        report.figure("homework", f"{label.lower()}_stored", sent=sent, stored=rows, csv_attempts=attempts,
                      rss_bytes={str(MEMORY_AFTER): early, "end": end})
        print(f"  {label}: {sent} checks sent, {rows} stored, {attempts} in the teacher's CSV; server memory "
              f"{early / 2 ** 20:.1f} MB after the first {MEMORY_AFTER} checks, {end / 2 ** 20:.1f} MB after "
              f"{len(runs['class'][0])}")
        report.target(f"checks not stored, {label}", sent - min(rows, attempts), "≤ 0")
        report.target(f"server memory growth after the first {MEMORY_AFTER} checks, {label} (MB)",
                      (end - early) / 2 ** 20, "≤ 10")
