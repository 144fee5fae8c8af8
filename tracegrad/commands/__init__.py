"""One module per ``tracegrad`` subcommand; see :mod:`tracegrad.cli`."""
