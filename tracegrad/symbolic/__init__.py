"""Symbolic confirmation with SymPy: Value graphs ↔ SymPy, rule checks, gradient
confirmation and closed-form formulas. Importing this package imports SymPy;
``import tracegrad`` does not.
"""

from .closed import closed_forms
from .convert import from_sympy, latex, to_sympy
from .verify import RuleCheck, VerifyReport, check_rule, verify
from .worked import verification_rows

__all__ = ["RuleCheck", "VerifyReport", "check_rule", "closed_forms", "from_sympy", "latex", "to_sympy",
           "verification_rows", "verify"]
