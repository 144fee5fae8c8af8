"""Plots for people who would rather look than read: loss curves, decision boundaries,
gradient norms per layer. Needs the optional extra ``tracegrad[plot]`` (matplotlib).

Figures are drawn on a :class:`matplotlib.figure.Figure` (no pyplot, no global
state) and written as PNG or SVG by the path's suffix; SVGs carry no date and
fixed ids, so the same data give the same file.
"""

from __future__ import annotations

import io
from pathlib import Path

from ..core.errors import InputError, TraceGradError
from ..core.files import write_output
from .loop import History, predict


def _figure(width: float = 6.0, height: float = 4.0):
    try:
        from matplotlib.figure import Figure
    except ImportError:
        raise TraceGradError("plots need matplotlib: pip install 'tracegrad[plot]'") from None
    return Figure(figsize=(width, height), dpi=100)


def _save(fig, path) -> None:
    import matplotlib

    fmt = Path(str(path)).suffix.lower().lstrip(".")
    if fmt not in ("png", "svg"):
        raise InputError("plots are written as .png or .svg", file=str(path))
    buffer = io.BytesIO()
    with matplotlib.rc_context({"svg.hashsalt": "tracegrad"}):
        fig.savefig(buffer, format=fmt, metadata={"Date": None} if fmt == "svg" else {"Software": None})
    write_output(buffer.getvalue(), str(path))


def loss_curves(histories, path, *, title: str = "loss per epoch", log: bool = True) -> None:
    """Train (solid) and test (dashed) loss per epoch; ``histories`` is a ``History`` or ``{name: History}``."""
    if isinstance(histories, History):
        histories = {"model": histories}
    fig = _figure()
    ax = fig.add_subplot()
    for k, (name, h) in enumerate(histories.items()):
        color = f"C{k % 10}"
        epochs = range(1, len(h.epoch_loss) + 1)
        ax.plot(epochs, h.epoch_loss, color=color, label=f"{name} (train)")
        if h.test_loss:
            ax.plot(epochs, h.test_loss, color=color, linestyle="--", label=f"{name} (test)")
    ax.set(xlabel="epoch", ylabel="loss", title=title)
    if log:
        ax.set_yscale("log")
    ax.legend(fontsize="small")
    fig.tight_layout()
    _save(fig, path)


def decision_boundary(model, X, y, path, *, resolution: int = 80, threshold: float = 0.0,
                      title: str = "decision boundary") -> None:
    """Classes a 2-D classifier assigns over the plane, with the data on top. One output: class 1
    where the output exceeds ``threshold`` (0 for logits and margins, 0.5 for probabilities);
    several outputs: the largest."""
    import numpy as np

    A = np.array(X, dtype=float)
    if A.ndim != 2 or A.shape[1] != 2:
        raise InputError("a decision boundary needs 2-D inputs", key="X")
    pad = 0.1 * (A.max(axis=0) - A.min(axis=0)) + 0.25
    lo, hi = A.min(axis=0) - pad, A.max(axis=0) + pad
    gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], resolution), np.linspace(lo[1], hi[1], resolution))
    out = predict(model, np.column_stack([gx.ravel(), gy.ravel()]).tolist())
    classes = [int(o[0] > threshold) if len(o) == 1 else int(np.argmax(o)) for o in out]
    fig = _figure(5.0, 5.0)
    ax = fig.add_subplot()
    ax.contourf(gx, gy, np.array(classes).reshape(gx.shape), alpha=0.3, cmap="coolwarm")
    ax.scatter(A[:, 0], A[:, 1], c=list(y), s=16, cmap="coolwarm", edgecolors="k", linewidths=0.4)
    ax.set(title=title, xlim=(lo[0], hi[0]), ylim=(lo[1], hi[1]))
    fig.tight_layout()
    _save(fig, path)


def gradient_norms(rows: dict, path, *, title: str = "gradient norm per layer") -> None:
    """‖∂L/∂θ‖ per layer on a log scale; ``rows`` maps a network's name to ``{layer: norm}``."""
    fig = _figure()
    ax = fig.add_subplot()
    for name, norms in rows.items():
        layers = [k for k in norms if k is not None]
        ax.plot(layers, [max(norms[k], 1e-30) for k in layers], marker="o", label=name)
    ax.set(xlabel="layer (1 = nearest the input)", ylabel="gradient norm", title=title, yscale="log")
    ax.legend(fontsize="small")
    fig.tight_layout()
    _save(fig, path)
