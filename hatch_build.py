"""Hatchling build hook: the browser assets of ``tracegrad serve`` come from npm at build time.

Runs ``npm ci`` in ``frontend/`` (versions pinned by ``frontend/package-lock.json``) and
copies KaTeX's script, style sheet and fonts (and its licence) into
``tracegrad/serve/static/vendor/``, which the wheel ships (an artifact: the folder is
git-ignored). Works for regular and editable builds; skipped when the copied files
already match the lock file. Nothing is ever loaded from a CDN.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

ROOT = Path(__file__).resolve().parent
FRONTEND = ROOT / "frontend"
VENDOR = ROOT / "tracegrad" / "serve" / "static" / "vendor"
COPIES = {  # from frontend/node_modules/… to vendor/…
    "katex/dist/katex.min.js": "katex/katex.min.js",
    "katex/dist/katex.min.css": "katex/katex.min.css",
    "katex/dist/fonts": "katex/fonts",
    "katex/LICENSE": "katex/LICENSE",
}


def _stamp() -> str:
    return hashlib.sha256((FRONTEND / "package-lock.json").read_bytes()).hexdigest()


def build_vendor() -> None:
    """Install the pinned packages with npm and copy the files the pages use into ``VENDOR``."""
    stamp = VENDOR / ".lock-sha256"
    if stamp.is_file() and stamp.read_text().strip() == _stamp() and all((VENDOR / t).exists() for t in COPIES.values()):
        return
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError(
            "building tracegrad needs npm (Node.js 18 or later) to fetch the web page's KaTeX assets, which "
            "the wheel ships so that `tracegrad serve` works offline: install Node.js and npm "
            "(apt-get install nodejs npm), then build again")
    result = subprocess.run([npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts"], cwd=FRONTEND,
                            capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"npm ci in {FRONTEND} failed (exit {result.returncode}):\n{result.stderr.strip()}")
    if VENDOR.exists():
        shutil.rmtree(VENDOR)
    for source, target in COPIES.items():
        src, dst = FRONTEND / "node_modules" / source, VENDOR / target
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dst)
        else:
            shutil.copy2(src, dst)
    stamp.write_text(_stamp() + "\n")


class VendorAssetsHook(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def initialize(self, version, build_data):
        build_vendor()
