"""Homework variants: deterministic, within the declared ranges, free of excluded degenerate
cases, and with answer keys that a fresh derivation of each variant reproduces."""

import json
import math
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tracegrad.core.errors import InputError
from tracegrad.problem.schema import load_problem
from tracegrad.core.numbers import NumberFormat
from tracegrad.workflows.variants import generate, write
from tracegrad.core.nested import flatten as flat
from tracegrad.problem.solve import solve

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "examples" / "seed_variants.toml"


def test_same_seed_same_files_other_seed_other_numbers(tmp_path):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    write(generate(TEMPLATE, 6, 42), a, problem_name="seed")
    write(generate(TEMPLATE, 6, 42), b, problem_name="seed")
    write(generate(TEMPLATE, 6, 43), c, problem_name="seed")
    names = sorted(p.name for p in a.iterdir())
    assert names == sorted(p.name for p in b.iterdir()) and len(names) == 6 * 2 + 3  # key.csv, key.json, manifest
    for name in names:
        assert (a / name).read_bytes() == (b / name).read_bytes()
    assert (a / "key.json").read_bytes() != (c / "key.json").read_bytes()


def test_numbers_lie_in_the_declared_ranges_at_the_declared_precision():
    for v in generate(TEMPLATE, 20, 7):
        weights = [w for layer in v.data["layers"] for w in flat(layer["weights"])]
        biases = [b for layer in v.data["layers"] for b in flat(layer["bias"])]
        assert all(-1 <= w <= 1 and round(w, 1) == w for w in weights)
        assert all(-0.5 <= b <= 0.5 and round(b, 1) == b for b in biases)
        assert all(-2 <= x <= 2 and x == int(x) for x in flat(v.data["data"]["x"]))
        assert 0 <= v.data["data"]["y"] <= 1


def test_keys_match_a_fresh_derivation_of_each_variant(tmp_path):
    variants = generate(TEMPLATE, 5, 3)
    write(variants, tmp_path, problem_name="seed")
    for v in variants:
        problem = load_problem(tmp_path / f"seed-{v.number:03d}.toml")
        fresh = solve(problem).values()
        key = tomllib.loads((tmp_path / f"seed-{v.number:03d}.key.toml").read_text(encoding="utf-8"))["answers"]
        assert set(key) == set(fresh)
        for name, value in fresh.items():
            for x, y in zip(flat(value), flat(key[name])):
                assert math.isclose(x, y, rel_tol=1e-12, abs_tol=1e-15), name


def test_excluded_degenerate_cases_are_resampled():
    fmt = NumberFormat(4)
    for v in generate(TEMPLATE, 40, 11):
        for name in ("dL/dW1", "dL/dW2", "dL/db1", "dL/db2"):
            assert all(fmt.round(g) != 0 for g in flat(v.key[name])), name
        assert all(fmt.round(a) not in (0.0, 1.0) for a in flat(v.key["a1"]))


def test_combined_key_lists_every_quantity_of_every_variant(tmp_path):
    write(generate(TEMPLATE, 3, 5), tmp_path, problem_name="seed")
    combined = json.loads((tmp_path / "key.json").read_text(encoding="utf-8"))
    assert sorted(combined) == ["seed-001", "seed-002", "seed-003"]
    rows = (tmp_path / "key.csv").read_text(encoding="utf-8").splitlines()
    assert rows[0] == "variant,quantity,position,value"
    per_variant = sum(1 for _ in flat(list(combined["seed-001"].values())))
    assert len(rows) == 1 + 3 * per_variant


@pytest.mark.parametrize("table,key", [
    ("", "variants"),
    ("[variants]\nweights = { low = 1, high = -1 }\n", "variants.weights"),
    ("[variants]\nweights = { low = -1, high = 1, decimals = 9 }\n", "variants.weights.decimals"),
    ("[variants]\nexclude = ['everything']\nx = { low = 0, high = 1 }\n", "variants.exclude"),
    ("[variants]\nlambda = { low = 0, high = 1 }\n", "variants.lambda"),
])
def test_bad_variants_tables_are_named(tmp_path, table, key):
    seed = (ROOT / "examples" / "seed.toml").read_text(encoding="utf-8")
    path = tmp_path / "p.toml"
    path.write_text(seed + "\n" + table, encoding="utf-8")
    with pytest.raises(InputError) as info:
        generate(path, 2, 0)
    assert f"{path}: {key}" in str(info.value)


def test_impossible_exclusions_give_a_clear_error(tmp_path):
    seed = (ROOT / "examples" / "seed.toml").read_text(encoding="utf-8")
    path = tmp_path / "p.toml"
    # every weight 0 makes every hidden weight gradient 0: zero_gradient can never be avoided
    path.write_text(seed + "\n[variants]\nweights = { low = 0, high = 0.01, decimals = 0 }\n"
                           "exclude = ['zero_gradient']\n", encoding="utf-8")
    with pytest.raises(InputError, match="no variant without zero_gradient"):
        generate(path, 1, 0)


def test_cli(tmp_path):
    out = tmp_path / "hw"
    r = subprocess.run([sys.executable, "-m", "tracegrad", "variants", str(TEMPLATE), "--count", "4", "--seed", "9",
                        "-o", str(out)], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    assert len(list(out.glob("seed_variants-*.toml"))) == 8
    r = subprocess.run([sys.executable, "-m", "tracegrad", "variants", str(ROOT / "examples" / "seed.toml"),
                        "-o", str(out)], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 2 and "no [variants] table" in r.stderr and "Traceback" not in r.stderr


def test_the_folders_leading_to_a_new_set_are_made(tmp_path):
    # `-o runs/hw` from a fresh clone, where runs/ does not exist yet (mkdir -p); a file in the
    # way is refused in one line
    r = subprocess.run([sys.executable, "-m", "tracegrad", "variants", str(TEMPLATE), "--count", "2", "-o",
                        "runs/week1/hw"], capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert len(list((tmp_path / "runs" / "week1" / "hw").glob("seed_variants-*.toml"))) == 4
    (tmp_path / "plain").write_text("mine")
    r = subprocess.run([sys.executable, "-m", "tracegrad", "variants", str(TEMPLATE), "--count", "2", "-o",
                        "plain/hw"], capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 2 and "cannot make the folder" in r.stderr and "Traceback" not in r.stderr
    assert (tmp_path / "plain").read_text() == "mine"
