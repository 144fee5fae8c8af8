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
