"""``python -m tests.golden``: rewrite every golden file from the current code."""

import sys

from tests.golden import HERE, cases


def main() -> int:
    for name, produce in cases():
        path = HERE / name
        text = produce()
        old = path.read_text(encoding="utf-8") if path.exists() else None
        if old != text:
            path.write_text(text, encoding="utf-8")
            print(f"updated {path.relative_to(HERE.parent.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
