"""Worker processes: every request's work runs in one, bounded in time and memory.

A :class:`Pool` keeps a few worker processes (``python -m tracegrad.serve.worker``, a fresh
interpreter each: nothing of the server's state is inherited), each with an address-space
limit (``RLIMIT_AS``) and, per task, a CPU-time limit of twice the time limit (so a worker
whose server died stops by itself). A request takes an idle worker, sends it the task and
waits at most ``time_limit`` seconds for the reply; a worker that overruns is killed and
replaced, so one hostile problem holds one worker for a bounded time and the others keep
serving. Replies are plain data (:class:`Reply`): the worker renders the whole response.
"""

from __future__ import annotations

import queue
import resource
import socket
import subprocess
import sys
import threading
from multiprocessing.connection import Connection

from .replies import Reply, error_reply

READY = "ready"  # a worker's first message: warmed up, its time limits apply from now on
START_LIMIT = 120.0  # seconds a new worker may take to start and warm up


def _worker_main(conn, memory_bytes: int, time_limit: float) -> None:
    """A worker's life: limit its memory, warm up, say so, then answer tasks until the pipe closes."""
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    from .handlers import handle, warm_up

    warm_up()
    conn.send(READY)
    while True:
        try:
            task, request = conn.recv()
        except (EOFError, OSError):
            return
        used = sum(resource.getrusage(resource.RUSAGE_SELF)[:2])
        resource.setrlimit(resource.RLIMIT_CPU, (int(used + 2 * time_limit) + 1, resource.RLIM_INFINITY))
        conn.send(handle(task, request))


class _Worker:
    def __init__(self, memory_bytes: int, time_limit: float):
        ours, theirs = socket.socketpair()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tracegrad.serve.worker", str(theirs.fileno()), str(memory_bytes), str(time_limit)],
            pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL)
        theirs.close()
        self.conn = Connection(ours.detach())
        self.ready = False

    def wait_ready(self) -> None:
        """Wait for the worker's first message (it warms up before its first task); raises EOFError
        when it did not start."""
        if not self.ready:
            if not self.conn.poll(START_LIMIT) or self.conn.recv() != READY:
                raise EOFError("the worker did not start")
            self.ready = True

    def stop(self) -> None:
        self.process.kill()
        self.process.wait(timeout=5)
        self.conn.close()


class Pool:
    """``size`` worker processes; :meth:`run` is blocking and thread-safe (call it from a thread pool)."""

    def __init__(self, size: int = 2, time_limit: float = 10.0, memory_mb: int = 1024, wait_limit: float = 30.0):
        self.time_limit = time_limit
        self.memory_mb = memory_mb
        self.wait_limit = wait_limit
        self._idle: queue.Queue = queue.Queue()
        self._all: set = set()
        self._lock = threading.Lock()
        self._closed = False
        for _ in range(size):
            self._idle.put(self._start())

    def _start(self) -> _Worker:
        worker = _Worker(self.memory_mb * 2 ** 20, self.time_limit)
        with self._lock:
            self._all.add(worker)
        return worker

    def _replace(self, worker: _Worker) -> _Worker | None:
        with self._lock:
            self._all.discard(worker)
        worker.stop()
        return None if self._closed else self._start()

    def run(self, task: str, request) -> Reply:
        """Run ``task`` on ``request`` in a worker; a reply for every outcome (never raises)."""
        try:
            worker = self._idle.get(timeout=self.wait_limit)
        except queue.Empty:
            return error_reply(503, f"the server is busy: no worker was free for {self.wait_limit:g} s; try again")
        fresh = False
        try:
            worker.wait_ready()
            worker.conn.send((task, request))
            if not worker.conn.poll(self.time_limit):
                fresh = True
                return error_reply(413, f"too large: the work took longer than {self.time_limit:g} s, the limit per "
                                        "request (tracegrad serve --time-limit raises it)")
            reply = worker.conn.recv()
            fresh = reply.restart
            return reply
        except (EOFError, OSError):
            fresh = True
            return error_reply(500, "internal error: the worker stopped while working on this request "
                                    f"(more than {self.memory_mb} MB of memory?); it has been replaced")
        finally:
            if fresh:
                worker = self._replace(worker)
            if worker is not None:
                self._idle.put(worker)

    def wait_ready(self) -> None:
        """Wait until every worker has started (call before the first request)."""
        with self._lock:
            workers = list(self._all)
        for worker in workers:
            worker.wait_ready()

    def close(self) -> None:
        """Stop every worker."""
        self._closed = True
        with self._lock:
            workers = list(self._all)
            self._all.clear()
        for worker in workers:
            worker.stop()


if __name__ == "__main__":  # python -m tracegrad.serve.worker FD MEMORY_BYTES TIME_LIMIT, started by a Pool
    _worker_main(Connection(int(sys.argv[1])), int(sys.argv[2]), float(sys.argv[3]))
