"""Symbolic confirmation with SymPy: Value graphs ↔ SymPy, rule checks, gradient
confirmation and closed-form formulas. Importing this package imports SymPy;
``import tracegrad`` does not.
"""

from .closed import closed_forms
from .convert import from_sympy, latex, to_sympy
from .confirm import RuleCheck, VerifyReport, check_rule
from .verify import verify
from .quantities import verification_rows

__all__ = ["RuleCheck", "VerifyReport", "check_rule", "closed_forms", "from_sympy", "latex", "to_sympy",
           "verification_rows", "verify"]
