"""Question-bank writers: a :class:`~tracegrad.workflows.export.Bank` as Moodle XML
(:mod:`.moodle`), a Canvas QTI 1.2 package (:mod:`.qti`) or GIFT (:mod:`.gift`); the
prose all three share is in :mod:`.prose`."""

FORMATS = ("moodle", "qti", "gift")
