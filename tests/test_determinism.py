"""The same command twice gives byte-identical output, also under different PYTHONHASHSEED values."""

import os
import subprocess
import sys
from pathlib import Path


ROOT = Path(__file__).resolve().parent.parent
SEED = str(ROOT / "examples" / "seed.toml")
BATCH = str(ROOT / "examples" / "batch_tanh.toml")
README_PROGRAM = str(ROOT / "examples" / "micrograd_readme.py")
NEURON = str(ROOT / "examples" / "lecture_neuron.py")

COMMANDS = [
    ["derive", SEED, "--format", fmt, "--lang", lang, "--rounding", rounding]
    for fmt in ("markdown", "latex", "text", "json") for lang in ("en", "zh") for rounding in ("exact", "carry")
] + [
    ["derive", BATCH, "--view", "node", "--format", "json"],
    ["derive", BATCH, "--format", "markdown", "--lang", "zh"],
    ["graph", "--expr", "(x + y) * z + x * x", "--at", "x=-2", "y=5", "z=-4", "--format", "dot"],
    ["graph", "--expr", "(x + y) * z + x * x", "--at", "x=-2", "y=5", "z=-4", "--format", "mermaid"],
    ["expr", "tanh(x * y) + max(x, y) / 3", "--at", "x=0.5", "y=-1.5", "--format", "json"],
    ["verify", SEED, "--format", "json"],
    ["expr", "--file", README_PROGRAM, "--format", "json"],
    ["graph", NEURON, "--format", "dot"],
    ["quantities", NEURON, "--format", "json"],
]


def run(args, hash_seed, cwd=ROOT):
    env = {**os.environ, "PYTHONHASHSEED": str(hash_seed)}
    return subprocess.run([sys.executable, "-m", "tracegrad", *args], capture_output=True, cwd=cwd, env=env)


def test_every_command_is_byte_identical_across_hash_seeds():
    # all commands in one process per hash seed would hide nothing: each run is a fresh interpreter
    for args in COMMANDS:
        first, second = run(args, 1), run(args, 2)
        assert first.returncode == 0, (args, first.stderr.decode())
        assert first.stdout == second.stdout, args
        assert first.stdout


def test_variants_are_byte_identical_across_hash_seeds(tmp_path):
    outputs = []
    for hash_seed in (3, 4):
        out = tmp_path / str(hash_seed)
        r = run(["variants", str(ROOT / "examples" / "seed_variants.toml"), "--count", "5", "--seed", "2", "-o",
                 str(out)], hash_seed)
        assert r.returncode == 0, r.stderr.decode()
        outputs.append({p.name: p.read_bytes() for p in sorted(out.iterdir())})
    assert outputs[0] == outputs[1]


def test_check_reports_and_class_summaries_are_byte_identical_across_hash_seeds(tmp_path):
    printed = str(ROOT / "examples" / "seed_printed.toml")
    key = tmp_path / "key.toml"
    key.write_text('[answers]\nz1 = [2.0, 2.4]\n"delta2" = -0.0477\n', encoding="utf-8")
    for args in (["check", SEED, printed, "--format", "json"], ["check", SEED, printed, "--lang", "zh"],
                 ["check", SEED, printed, str(key), "--format", "markdown"],
                 ["check", SEED, printed, str(key), "--summary", "-"]):
        first, second = run(args, 5), run(args, 6)
        assert first.returncode == 1, (args, first.stderr.decode())
        assert first.stdout == second.stdout and first.stdout, args
