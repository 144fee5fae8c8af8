"""Homework checking: a student's written numbers judged against a traced computation.

The pieces: :mod:`.answers` (reading answers with their written digits),
:mod:`.tolerance` (when two numbers agree), :mod:`.policy` (the teacher's grading
policy: tolerance, digits, credit), :mod:`.subject` (a trace with named
quantities: what can be checked), :mod:`.expression` (the subject of an expression
problem), :mod:`.mutations` (likely mistakes as mutated computations),
:mod:`.verdicts` (the judging) and :mod:`.printed` (a document's printed numbers
pinned into its derivation). The report that shows the verdicts is
:func:`tracegrad.check` (:mod:`tracegrad.workflows.check`).
"""

from .answers import Answers, load_answers, parse_answers
from .load import load_subject
from .policy import Policy, load_policy, parse_policy, policy_of, problem_policy
from .subject import Subject, network_subject
from .verdicts import Grader, Verdict, judge

__all__ = ["Verdict", "Answers", "Subject", "load_answers", "parse_answers", "network_subject", "load_subject",
           "judge", "Grader", "Policy", "policy_of", "problem_policy", "parse_policy", "load_policy"]
