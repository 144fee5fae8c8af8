"""``verify``: every derivative of a problem (or an expression) confirmed by SymPy, as a report."""

from __future__ import annotations

from dataclasses import dataclass

from ..core.errors import InputError, in_file


@dataclass(frozen=True)
class Verification:
    """A :class:`~tracegrad.symbolic.verify.VerifyReport` with its default language; renders itself."""

    report: object
    lang: str = "en"

    @property
    def ok(self) -> bool:
        return self.report.ok

    def render(self, format: str = "text", lang: str | None = None, template_dir=None) -> str:
        """The report as ``text``, ``markdown`` or ``json``."""
        from ..render.verify_report import render_verification

        return render_verification(self.report, format, lang or self.lang, template_dir)

    def _repr_markdown_(self) -> str:
        return self.render("markdown")


def verify(problem=None, *, expr: str | None = None, at=None, intermediates: bool = False,
           expand: bool = False, key: str = "--expr") -> Verification:
    """Confirm a problem file (a path or a :class:`~tracegrad.problem.Problem`: every printed
    backward quantity), a program (a path ending in ``.py``) or an expression ``expr`` at the
    point ``at`` (every gradient, and with ``intermediates`` every intermediate's)."""
    from ..symbolic.verify import verify as confirm

    if (problem is None) == (expr is None):
        raise InputError('give a problem file or --expr (with --at), e.g. tracegrad verify examples/seed.toml')
    if expr is not None:
        from ..expressions.parse import OUTPUT_NAME, parse

        root = parse(expr, at or {}, name=OUTPUT_NAME, key=key)
        with in_file(key):
            return Verification(confirm(root, intermediates=intermediates, expand=expand))
    from ..checker.load import is_program

    if is_program(problem):
        from ..expressions.program import read_program

        root = read_program(problem).output
        with in_file(str(problem)):
            return Verification(confirm(root, intermediates=intermediates, expand=expand))
    if intermediates:
        raise InputError("--intermediates goes with --expr or a program (.py); for a problem file every printed "
                         "quantity (δ, ∂L/∂a, ∂L/∂W …) is confirmed already")
    from ..problem import Problem, load_problem, solve

    if not isinstance(problem, Problem):
        problem = load_problem(problem)
    worked = solve(problem)
    with in_file(problem.source):
        return Verification(confirm(worked, expand=expand), problem.render.lang)
