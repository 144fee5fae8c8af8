"""What the classroom refuses, by kind: each door (page, API, LTI) maps them to its own replies."""

from __future__ import annotations

from ..core.errors import InputError


class NotFound(InputError):
    """No such assignment (HTTP 404)."""


class Refused(InputError):
    """A request the rules refuse: attempts used up, the solution not yet shown, a wrong teacher token
    (HTTP 403)."""
