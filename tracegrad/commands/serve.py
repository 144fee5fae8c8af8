"""``tracegrad serve``: the classroom web page (derive, check, graph, expression, variants)."""

from __future__ import annotations

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def register(sub) -> None:
    p = sub.add_parser(
        "serve", help="serve the classroom web page: derivations, checking and graphs in the browser",
        description="Serve the web page: the worked derivation of a problem typeset as you edit it, answers "
                    "checked line by line, the computation graph with every gradient on hover, expressions "
                    "and homework variants; and a JSON API (POST /api/derive, /api/check, /api/graph, "
                    "/api/expr, /api/quantities, /api/variants). Every asset is served from the package.",
        epilog="example: tracegrad serve --open   (then http://127.0.0.1:8000/)")
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
    p.set_defaults(run=run)


def run(args) -> int:
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
    host = f"[{args.host}]" if ":" in args.host else args.host
    url = f"http://{host}:{args.port}/"
    print(f"tracegrad serve: {url} (Ctrl-C stops)", file=sys.stderr)
    if args.open:
        threading.Timer(1.0, webbrowser.open, [url]).start()
    uvicorn.run(create_app(args.workers, args.time_limit, args.memory_limit), host=args.host, port=args.port,
                log_level="warning")
    return 0
