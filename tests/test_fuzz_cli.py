"""Fuzzing the command line: any arguments give exit 0, 1 or 2 with at most a one-line
message, never a traceback or an internal error, and no input file is modified."""

import hashlib
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tracegrad.cli import main

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
INPUTS = [EXAMPLES / n for n in ("seed.toml", "seed_printed.toml", "batch_tanh.toml", "expression_homework.toml",
                                 "seed_variants.toml", "micrograd_readme.py", "lecture_neuron.py")]

COMMANDS = ["derive", "check", "quantities", "verify", "expr", "graph", "variants", "export"]
OPTIONS = ["--format", "--lang", "--decimals", "--sig-figs", "--rounding", "--view", "--template-dir", "--at",
           "--wrt", "--count", "--seed", "--expr", "--as-printed", "--graph", "--fragment", "--verify", "-o",
           "--to", "--export", "--cloze", "--mistake-credit", "--roster", "--student", "--assignment-seed",
           "--file", "--of"]
VALUES = ["markdown", "latex", "text", "json", "dot", "svg", "mermaid", "en", "zh", "fr", "exact", "carry", "layer",
          "node", "moodle", "qti", "gift", "50", "0", "4", "-1", "99", "1e3", "nan", "x=1", "x=-2", "y=abc", "=", "x",
          "(x + y) * z",
          "__import__('os')", "", "--", "\\", "$x$", "中文", "x" * 300]


def digest():
    return {p: hashlib.sha256(p.read_bytes()).hexdigest() for p in INPUTS}


BEFORE = digest()  # taken when the module is collected, before any test of it runs


arguments = st.lists(st.one_of(st.sampled_from(OPTIONS), st.sampled_from(VALUES),
                               st.sampled_from([str(p) for p in INPUTS] + ["missing.toml", str(ROOT), "/dev/null"])),
                     max_size=7)


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.sampled_from(COMMANDS), arguments)
def test_any_arguments(tmp_path_factory, capsys, monkeypatch, command, args):
    work = tmp_path_factory.mktemp("cwd")
    monkeypatch.chdir(work)
    argv = [command, *args]
    if "-o" in argv:  # outputs go into the scratch directory only
        i = argv.index("-o")
        argv[i + 1:i + 2] = [str(work / "out")]
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's own usage errors
        code = exc.code
    err = capsys.readouterr().err
    assert code in (0, 1, 2), (argv, code, err)
    assert "Traceback" not in err and "internal error" not in err, (argv, err)


def test_inputs_untouched():
    assert digest() == BEFORE
