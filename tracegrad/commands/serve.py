"""``tracegrad serve``: the classroom web page (derive, check, graph, expression, variants), and with
``--assignment`` homework for a class (the student's and the teacher's pages)."""

from __future__ import annotations

LOOPBACK = ("127.0.0.1", "localhost", "::1")
MIN_TOKEN = 12
"""Characters a teacher's token must have."""


def register(sub) -> None:
    p = sub.add_parser(
        "serve", help="serve the classroom web page: derivations, checking and graphs in the browser",
        description="Serve the web page: the worked derivation of a problem typeset as you edit it, answers "
                    "checked line by line, the computation graph with every gradient on hover, expressions "
                    "and homework variants; and a JSON API (POST /api/derive, /api/check, /api/graph, "
                    "/api/expr, /api/quantities, /api/variants). Every asset is served from the package.",
        epilog="example: tracegrad serve --open   (then http://127.0.0.1:8000/)\n"
               "         tracegrad serve --assignment hw3.toml --host 0.0.0.0   (homework for a class)")
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (default 127.0.0.1: this machine only; anything else warns)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    p.add_argument("--open", action="store_true", help="open the page in a web browser")
    p.add_argument("--workers", type=int, default=2, metavar="N",
                   help="worker processes doing the requests' work (default 2)")
    p.add_argument("--time-limit", type=float, default=10.0, metavar="S",
                   help="seconds one request's work may take before its worker is stopped (default 10)")
    p.add_argument("--memory-limit", type=int, default=1024, metavar="MB",
                   help="memory (address space) of each worker process, in MB (default 1024)")
    p.add_argument("--assignment", action="append", default=[], metavar="PROBLEM",
                   help="serve homework: a problem file (its [assignment] table holds the rules) or a variants "
                        "directory with a roster; repeat for several. Prints each student link (/a/ID) and the "
                        "teacher's page (/teacher); the derivation pages and their API are then off (see --tools)")
    p.add_argument("--data", metavar="DIR",
                   help="folder of the class's database, an SQLite file (default ./tracegrad-data, made if missing)")
    p.add_argument("--database", metavar="URL",
                   help="keep the class's work in PostgreSQL instead (postgresql://USER@HOST/DB; pip install "
                        "'tracegrad[postgres]'): several servers behind one load balancer share one class")
    p.add_argument("--teacher-token", metavar="TOKEN",
                   help="the teacher's sign-in token (at least 12 characters; default: the TRACEGRAD_TEACHER_TOKEN "
                        "environment variable, else a random one printed at start)")
    p.add_argument("--tools", action="store_true",
                   help="with --assignment, also serve the derivation pages and their API (students could then "
                        "derive their homework here)")
    p.set_defaults(run=run)


def classroom_of(args):
    """The :class:`~tracegrad.classroom.submissions.Classroom` of ``--assignment`` (None without), and
    the teacher's token."""
    import os
    import secrets

    from ..core.errors import InputError

    if not args.assignment:
        for flag, value in (("--data", args.data), ("--database", args.database), ("--teacher-token", args.teacher_token),
                            ("--tools", args.tools or None)):
            if value is not None:
                raise InputError(f"{flag} belongs to serving homework; give --assignment PROBLEM with it")
        return None, None
    if args.data is not None and args.database is not None:
        raise InputError("give --data DIR (SQLite) or --database URL (PostgreSQL), not both")
    token = args.teacher_token or os.environ.get("TRACEGRAD_TEACHER_TOKEN") or secrets.token_urlsafe(24)
    if len(token) < MIN_TOKEN or not token.isprintable() or " " in token:
        raise InputError(f"the teacher's token needs at least {MIN_TOKEN} characters and no spaces", key="--teacher-token")
    from ..classroom.assignment import load_assignment
    from ..classroom.store import Store
    from ..classroom.submissions import Classroom

    assignments = [load_assignment(path) for path in args.assignment]
    store = Store.open(args.data, args.database)
    try:
        return Classroom(assignments, store), token
    except InputError:
        store.close()
        raise


def reachable(host: str) -> str:
    """The host part of a link to this server: ``host``, or for the wildcard addresses (0.0.0.0, ::) the
    address other machines reach this one at (the one an outgoing route would use; nothing is sent)."""
    import socket

    if host not in ("0.0.0.0", "::", ""):
        return f"[{host}]" if ":" in host else host
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("10.255.255.255", 1))  # a UDP "connection" picks a route and sends nothing
            return probe.getsockname()[0]
    except OSError:
        return socket.gethostname()


def run(args) -> int:
    import os
    import sys
    import threading
    import webbrowser

    import uvicorn

    from ..core.errors import InputError
    from ..serve.app import STATIC, create_app

    if not 1 <= args.port <= 65535:
        raise InputError(f"--port must be from 1 to 65535, got {args.port}")
    if not 1 <= args.workers <= 64:
        raise InputError(f"--workers must be from 1 to 64, got {args.workers}")
    if not 0 < args.time_limit <= 3600:
        raise InputError(f"--time-limit must be more than 0 and at most 3600 seconds, got {args.time_limit:g}")
    if not 256 <= args.memory_limit <= 65536:
        raise InputError(f"--memory-limit must be from 256 to 65536 MB, got {args.memory_limit}")
    if not (STATIC / "vendor" / "katex" / "katex.min.js").is_file():
        raise InputError("the page's KaTeX assets are missing from this installation; reinstall tracegrad "
                         "(building it runs npm), e.g. pip install -e . in a source checkout")
    if args.host not in LOOPBACK:
        print(f"tracegrad serve: warning: listening on {args.host}, so other machines can reach the page; "
              "every request's work is bounded, but anyone on the network can use it", file=sys.stderr)
    classroom, token = classroom_of(args)
    host = f"[{args.host}]" if ":" in args.host else args.host
    url = f"http://{host}:{args.port}/"
    print(f"tracegrad serve: {url} (Ctrl-C stops)", file=sys.stderr)
    if classroom is not None:
        from ..classroom.store import shown_url

        link = f"http://{reachable(args.host)}:{args.port}/"  # a link students on the network can open
        for a in classroom.assignments.values():
            print(f"  assignment {a.id}: {link}a/{a.id}   (the student link; {len(a.elements)} boxes)", file=sys.stderr)
        shown = "given by --teacher-token" if token == args.teacher_token else \
            "from TRACEGRAD_TEACHER_TOKEN" if token == os.environ.get("TRACEGRAD_TEACHER_TOKEN") else token
        print(f"  teacher's page: {url}teacher   token: {shown}", file=sys.stderr)
        print(f"  the class's work is kept in {shown_url(classroom.store.url)}", file=sys.stderr)
    if args.open:
        threading.Timer(1.0, webbrowser.open, [url]).start()
    try:
        uvicorn.run(create_app(args.workers, args.time_limit, args.memory_limit, classroom=classroom,
                               teacher_token=token, tools=classroom is None or args.tools),
                    host=args.host, port=args.port, log_level="warning")
    finally:
        if classroom is not None:
            classroom.store.close()
    return 0
