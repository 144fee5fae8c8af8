import os
import sys
from pathlib import Path

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
