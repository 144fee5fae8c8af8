import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
os.environ.setdefault("PYTHONHASHSEED", "0")


def central_difference(f, xs, i, h=1e-6):
    """d f / d xs[i] by central differences with a step relative to |xs[i]|."""
    step = h * max(1.0, abs(xs[i]))
    up = list(xs)
    down = list(xs)
    up[i] += step
    down[i] -= step
    return (f(up) - f(down)) / (2 * step)


GOLDEN = ROOT / "tests" / "golden"


def _golden_digest():
    import hashlib

    digest = hashlib.sha256()
    for path in sorted(GOLDEN.glob("*")):
        if path.is_file():
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def pytest_sessionstart(session):
    session.config._golden_digest = _golden_digest()


def pytest_sessionfinish(session, exitstatus):
    """Golden files change only through `python -m tests.golden`: a test run that touched them fails."""
    if _golden_digest() != session.config._golden_digest:
        print("\nERROR: the test run modified tests/golden/; golden files change only through `python -m tests.golden`")
        session.exitstatus = 1


def wide_problem(width: int, samples: int, steps: int = 1) -> str:
    """A valid 2-width-width-1 tanh problem: every size within the limits, and slow to derive at will."""
    def layer(n_in, n_out):
        rows = ",".join("[" + ",".join(f"{((i * 7 + j * 3) % 11 - 5) / 50:g}" for j in range(n_out)) + "]"
                        for i in range(n_in))
        return f"[[layers]]\nweights = [{rows}]\nbias = [{','.join(['0.1'] * n_out)}]\nactivation = 'tanh'\n"
    xs = ",".join(f"[{i / samples:g},{1 - i / samples:g}]" for i in range(samples))
    return (layer(2, width) + layer(width, width) + layer(width, 1)
            + f"[data]\nx = [{xs}]\ny = [{','.join(['0.5'] * samples)}]\n[optimizer]\nlr = 0.1\nsteps = {steps}\n")



def postgres_server() -> str | None:
    """The URL of a PostgreSQL server the tests may create databases on (``TRACEGRAD_TEST_POSTGRES``,
    which ``.ci/run`` sets for the private cluster it starts), or None."""
    return os.environ.get("TRACEGRAD_TEST_POSTGRES") or None


@pytest.fixture(scope="module")
def postgres_url():
    """A fresh PostgreSQL database for one test module, dropped after it; the module's PostgreSQL
    tests skip, saying why, where no server is available."""
    import uuid

    server = postgres_server()
    if server is None:
        pytest.skip("no PostgreSQL server: set TRACEGRAD_TEST_POSTGRES=postgresql://USER@HOST:PORT/DB "
                    "(.ci/run starts a private one)")
    psycopg = pytest.importorskip("psycopg", reason="needs psycopg (pip install -e '.[test]')")
    name = f"tracegrad_test_{uuid.uuid4().hex[:12]}"
    try:
        with psycopg.connect(server, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error as exc:
        pytest.skip(f"the PostgreSQL server of TRACEGRAD_TEST_POSTGRES cannot be used: {exc}")
    yield f"{server.rsplit('/', 1)[0]}/{name}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
