"""The engine: the op table and its notation, ``Value`` and the backward pass, traces
and replay, errors, roles, number formatting and safe file access.

Nothing here imports from the layers above (``tracegrad.nn`` and up); those attach
what they add to the core's classes themselves (see :mod:`tracegrad.extensions`).
"""
