"""tracegrad's benchmark suite: ``bench/run`` (see ``bench/suite.py`` and the README)."""
