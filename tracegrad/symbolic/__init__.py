"""Symbolic confirmation with SymPy: Value graphs ↔ SymPy, rule checks, gradient
confirmation and closed-form formulas. Importing this package imports SymPy;
``import tracegrad`` does not.
"""

from .convert import from_sympy, latex, to_sympy
from .verify import RuleCheck, VerifyReport, check_rule, verify

__all__ = ["to_sympy", "from_sympy", "latex", "verify", "check_rule", "VerifyReport", "RuleCheck"]
