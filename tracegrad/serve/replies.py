"""What a worker sends back for a request: a :class:`Reply`, rendered in the worker."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Reply:
    """A response, rendered in the worker: status, media type, body and extra headers;
    ``restart`` asks for a fresh worker (after running out of memory)."""

    status: int
    media_type: str
    body: bytes
    headers: dict = field(default_factory=dict)
    restart: bool = False


def error_reply(status: int, message: str, restart: bool = False) -> Reply:
    """``{"error": message}`` with ``status``."""
    import json

    body = json.dumps({"error": message}, ensure_ascii=False).encode("utf-8", "backslashreplace")
    return Reply(status, "application/json", body + b"\n", restart=restart)
