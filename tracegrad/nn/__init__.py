"""Neural networks on the engine: layers, activations, losses, optimizers, training.

Everything builds ordinary ``Value`` nodes with roles (``W1[0][1]``, ``z1[0]``,
``a1[0]``, ``loss``), so any network can be traced, rendered and checked.
"""

from __future__ import annotations

from .activations import ACTIVATIONS
from .diagnostics import gradient_norms
from .layers import Activation, Dense, Layer, Neuron
from .losses import LOSSES, Loss
from .mlp import MLP, build_demo_mlp
from .module import Module
from .norm import BatchNorm, Dropout
from .optim import OPTIMIZERS, SGD, Adam, Momentum, RMSprop, clip_grad_norm, clip_grad_value
from .regularization import l1_penalty, l2_penalty
from .loop import History, evaluate, fit, predict

__all__ = [
    "Module", "Neuron", "Layer", "Dense", "Activation", "MLP", "Dropout", "BatchNorm", "build_demo_mlp",
    "ACTIVATIONS", "LOSSES", "Loss", "OPTIMIZERS", "SGD", "Momentum", "RMSprop", "Adam",
    "clip_grad_value", "clip_grad_norm", "l1_penalty", "l2_penalty", "gradient_norms",
    "fit", "evaluate", "predict", "History",
]
