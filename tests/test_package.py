"""The package from a built wheel, installed into a fresh virtual environment."""

import re
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def installed_wheel(tmp_path_factory):
    """Build the wheel, install it (not editable) into a new venv; return the venv's python."""
    pytest.importorskip("build")
    work = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(work), str(ROOT)],
                   check=True, capture_output=True)
    wheel = next(work.glob("tracegrad-*.whl"))
    env_dir = work / "venv"
    # the runtime dependencies come from this interpreter's site-packages (the base interpreter's, and a
    # virtual environment's the tests run in, after the new one's own); tracegrad itself from the wheel
    venv.EnvBuilder(with_pip=True, system_site_packages=True).create(env_dir)
    python = env_dir / "bin" / "python"
    own = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                         capture_output=True, text=True, check=True).stdout.strip()
    (Path(own) / "outer-site-packages.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    subprocess.run([str(python), "-m", "pip", "install", "--no-deps", "--no-index", "--force-reinstall",
                    "--quiet", str(wheel)], check=True, capture_output=True)
    return python, work


def run_in(python, work, code):
    return subprocess.run([str(python), "-c", code], cwd=work, capture_output=True, text=True, check=True).stdout


def test_wheel_ships_templates_and_renders_a_derivation(installed_wheel):
    python, work = installed_wheel
    code = (
        "import tracegrad\n"
        "from tracegrad.render.resources import template_dir\n"
        "assert 'site-packages' in str(template_dir()), template_dir()\n"
        "assert 'site-packages' in tracegrad.__file__, tracegrad.__file__\n"
        f"print(tracegrad.derive({str(ROOT / 'examples' / 'seed.toml')!r}).text, end='')\n"
    )
    out = run_in(python, work, code)
    assert out == (ROOT / "tests" / "golden" / "seed.exact.en.md").read_text(encoding="utf-8")


def test_wheel_ships_the_pages_assets_and_examples(installed_wheel):
    python, work = installed_wheel
    names = set(zipfile.ZipFile(next(work.glob("tracegrad-*.whl"))).namelist())
    vendor = "tracegrad/serve/static/vendor/katex/"
    assert {vendor + "katex.min.js", vendor + "katex.min.css", vendor + "LICENSE", "tracegrad/serve/static/app.js",
            "tracegrad/templates/serve/base.html.j2", "tracegrad/examples/seed.toml"} <= names
    css = zipfile.ZipFile(next(work.glob("tracegrad-*.whl"))).read(vendor + "katex.min.css").decode()
    fonts = {vendor + f for f in re.findall(r"url\((fonts/[^)]+)\)", css)}
    assert fonts and fonts <= names  # every font the style sheet names is inside the wheel
    code = (
        "from tracegrad.serve import api\n"
        "print(api.examples()[0].name, api.derive_output(api.examples()[0].text)[1])\n"
    )
    assert run_in(python, work, code).split() == ["seed", "application/json"]


def test_wheel_ships_the_classroom_and_its_migrations(installed_wheel):
    python, work = installed_wheel
    names = set(zipfile.ZipFile(next(work.glob("tracegrad-*.whl"))).namelist())
    assert {"tracegrad/classroom/migrations/env.py", "tracegrad/classroom/migrations/versions/0001_classroom.py",
            "tracegrad/serve/static/classroom.js", "tracegrad/templates/serve/homework.html.j2"} <= names
    code = (
        "import tracegrad.classroom.store as store\n"
        "assert 'site-packages' in store.__file__, store.__file__\n"
        "s = store.Store.open(data='class-data')\n"
        "print(s.count())\n"
    )
    assert run_in(python, work, code).split() == ["0"]
    assert (work / "class-data" / "classroom.sqlite3").is_file()


def test_console_script_and_module(installed_wheel):
    python, work = installed_wheel
    script = python.parent / "tracegrad"
    out = subprocess.run([str(script), "--version"], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "tracegrad 0.1.0"
    out = subprocess.run([str(python), "-m", "tracegrad", "--help"], cwd=work, capture_output=True, text=True,
                         check=True)
    assert "usage: tracegrad" in out.stdout


def test_source_checkout_finds_templates():
    from tracegrad.render.resources import template_dir

    assert template_dir() == ROOT / "templates"
