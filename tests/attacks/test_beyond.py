"""Attacks beyond the review's list: weak spots found while fixing it.

Templates that exhaust memory or escape their folder, catalogs that break formatting,
outputs through links, forged or foreign output folders, deep or malformed files, control
characters that reach a terminal, limits set on the command line, and the core mechanisms
(bounded parsing of request bodies, output sets) through the Python API.
"""

from __future__ import annotations

import json
import os

import pytest

from tests.attacks.harness import DATA, ISOLATED, SEED, SEED_VARIANTS, digest, refused, tg, write

SMALL = '[[layers]]\nweights = [[0.5], [0.7]]\nbias = 0.1\nactivation = "sigmoid"\n[data]\nx = [1, 2]\ny = 0.5\n'


# --- templates and catalogs -------------------------------------------------------------


@pytest.mark.parametrize("template, says", [
    ((DATA / "template_huge.md.j2").read_text(), "longer than"),
    ("{{ 2 ** 100000 }}", "exponent 100000"),
    ("{{ range(10**9) | list | length }}", "Range too big"),
    ("{{ lipsum(n=10**9) }}", "lipsum"),
    ('{{ "{0.__class__}".format(1) }}', "unsafe"),
    ("{{ msg.__call__.__globals__ }}", "unsafe"),
    ((DATA / "template_include.md.j2").read_text(), "not found"),
    ("{{ 1 + 'a' }}", "unsupported operand"),
], ids=["repeat", "power", "range", "lipsum", "format", "globals", "include", "type"])
def test_a_template_can_neither_exhaust_memory_nor_read_or_run_anything(tmp_path, template, says):
    write(tmp_path, "tpl/derive.md.j2", template)
    write(tmp_path, "seed.toml", SEED)
    run = tg("derive", "seed.toml", "--template-dir", "tpl", cwd=tmp_path, isolated=True)
    assert "root:" not in run.out and "Traceback" not in run.err
    assert run.code == 2 and len(run.err.splitlines()) == 1 and says in run.err, run.err


def test_a_template_link_out_of_its_folder_is_not_read(tmp_path):
    (tmp_path / "tpl").mkdir()
    os.symlink("/etc/passwd", tmp_path / "tpl" / "derive.md.j2")
    write(tmp_path, "seed.toml", SEED)
    run = tg("derive", "seed.toml", "--template-dir", "tpl", cwd=tmp_path)
    refused(run, "tpl/derive.md.j2", says="outside its template directory")
    assert "root:" not in run.out


@pytest.mark.parametrize("name", ["derive.md.j2", "messages/en.toml"])
def test_a_fifo_template_or_catalog_never_hangs(tmp_path, name):
    (tmp_path / "tpl" / "messages").mkdir(parents=True)
    os.mkfifo(tmp_path / "tpl" / name)
    write(tmp_path, "seed.toml", SEED)
    refused(tg("derive", "seed.toml", "--template-dir", "tpl", cwd=tmp_path, **ISOLATED),
            f"tpl/{name}", says="cannot be read")


@pytest.mark.parametrize("message, says", [
    ("Weighted sum {", "invalid placeholder"),
    ("Weighted sum {0}", "unknown placeholder {0}"),
    ("Weighted sum {k[0]}", "unknown placeholder {k[0]}"),
    ("Weighted sum {k:{k}}", "not plain"),
    ("Weighted sum {k!a}", "not plain"),
], ids=["brace", "positional", "index", "nested", "conversion"])
def test_a_catalog_message_that_breaks_formatting(tmp_path, message, says):
    write(tmp_path, "tpl/messages/en.toml", f"[caption]\nz = {json.dumps(message)}\n")
    write(tmp_path, "seed.toml", SEED)
    refused(tg("derive", "seed.toml", "--template-dir", "tpl", cwd=tmp_path), "tpl/messages/en.toml", "caption.z",
            says=says)


# --- outputs --------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["hard link", "symbolic link"])
def test_output_through_a_link_to_the_problem_is_refused(tmp_path, kind):
    write(tmp_path, "seed.toml", SEED)
    (os.link if kind == "hard link" else os.symlink)(tmp_path / "seed.toml", tmp_path / "out.md")
    before = digest(tmp_path)
    refused(tg("derive", "seed.toml", "-o", "out.md", cwd=tmp_path), "out.md", says="input file")
    assert digest(tmp_path) == before


def test_output_through_a_link_to_a_regular_file_writes_the_file_and_keeps_the_link(tmp_path):
    write(tmp_path, "seed.toml", SEED)
    write(tmp_path, "real.md", "old\n")
    os.symlink("real.md", tmp_path / "out.md")
    assert tg("derive", "seed.toml", "-o", "out.md", cwd=tmp_path).code == 0
    assert os.readlink(tmp_path / "out.md") == "real.md"
    assert (tmp_path / "real.md").read_text(encoding="utf-8").startswith("# Backpropagation")


def test_output_into_a_missing_folder_or_with_a_too_long_name(tmp_path):
    write(tmp_path, "seed.toml", SEED)
    refused(tg("derive", "seed.toml", "-o", "no/such/out.md", cwd=tmp_path), "no/such/out.md", says="does not exist")
    refused(tg("derive", "seed.toml", "-o", "x" * 300, cwd=tmp_path), "x" * 300, says="cannot write")
    assert sorted(os.listdir(tmp_path)) == ["seed.toml"]


def test_variants_into_a_linked_folder_is_refused(tmp_path):
    write(tmp_path, "p.toml", SEED_VARIANTS)
    (tmp_path / "real").mkdir()
    os.symlink("real", tmp_path / "v")
    refused(tg("variants", "p.toml", "--count", 1, "-o", "v", cwd=tmp_path), "v", says="symbolic link")
    assert os.listdir(tmp_path / "real") == []


def test_variants_into_a_folder_holding_a_fifo_never_hangs(tmp_path):
    write(tmp_path, "p.toml", SEED_VARIANTS)
    (tmp_path / "v").mkdir()
    os.mkfifo(tmp_path / "v" / "key.csv")
    refused(tg("variants", "p.toml", "--count", 1, "-o", "v", cwd=tmp_path, **ISOLATED), "v",
            says="did not write (key.csv)")


def test_variants_over_another_commands_output_is_refused(tmp_path):
    write(tmp_path, "p.toml", SEED_VARIANTS)
    write(tmp_path, "t.toml", SMALL + '[training]\ndataset = "xor"\nepochs = 1\n')
    assert tg("train", "t.toml", "-o", "runs", "--no-progress", cwd=tmp_path).code == 0
    before = digest(tmp_path)
    refused(tg("variants", "p.toml", "--count", 1, "-o", "runs", cwd=tmp_path), "runs", says="did not write")
    assert digest(tmp_path) == before
    assert tg("train", "t.toml", "-o", "runs", "--no-progress", cwd=tmp_path).code == 0  # its own: replaced


def test_a_variant_file_name_carries_no_control_or_bidi_character(tmp_path):
    write(tmp_path, "hw\u202e\x1b[2J.toml", SEED_VARIANTS)
    assert tg("variants", "hw\u202e\x1b[2J.toml", "--count", 1, "-o", "v", cwd=tmp_path).code == 0
    assert all(name.isprintable() and "\u202e" not in name for name in os.listdir(tmp_path / "v"))


# --- malformed and deep files -------------------------------------------------------------


@pytest.mark.parametrize("name, text, key, says", [
    ("p.json", "[" * 100_000 + "]" * 100_000, "line 1", "--limit nesting=N"),
    ("p.toml", SMALL + "x = " + "{a = " * 1000 + "1" + "}" * 1000 + "\n", "line 8", "--limit nesting=N"),
    ("p.toml", SMALL + "[" + ".".join(["t"] * 1000) + "]\n", "line 8", "--limit key_depth=N"),
    ("p.toml", SMALL.replace("[[layers]]", "[[layers]]\n" + "x" * 2000 + " = 1"), None, "--limit text_chars=N"),
    ("p.json", '{"layers": [], "data": {"x": [NaN, 1], "y": 0.5}}', "data.x[0]", "finite"),
    ("p.json", "\ufeff{}", None, "invalid JSON"),
    ("p.toml", None, None, "not UTF-8"),
], ids=["json-depth", "inline-tables", "table-header", "long-key", "nan", "bom", "latin-1"])
def test_malformed_or_deep_problem_files(tmp_path, name, text, key, says):
    if text is None:
        (tmp_path / name).write_bytes(SMALL.replace("0.5", "0.5 # caf\xe9").encode("latin-1"))
    else:
        write(tmp_path, name, text)
    refused(tg("derive", name, cwd=tmp_path, isolated=name == "p.json" and "[" * 10 in (text or "")), name, key,
            says=says)


def test_too_many_layers(tmp_path):
    layer = '[[layers]]\nweights = [[1]]\nbias = 0\nactivation = "identity"\n'
    write(tmp_path, "p.toml", layer * 21 + "[data]\nx = [1]\ny = 0.5\n")
    refused(tg("derive", "p.toml", cwd=tmp_path), "p.toml", "layers", says="--limit layers=N")


def test_duplicate_keys_in_a_json_answers_file(tmp_path):
    write(tmp_path, "seed.toml", SEED)
    write(tmp_path, "a.json", '{"answers": {"z1": [2.0, 2.4], "z1": [0, 0]}}')
    refused(tg("check", "seed.toml", "a.json", cwd=tmp_path), "a.json", 'answers.z1', says="twice")


def test_generated_datasets_are_bounded_before_they_are_made(tmp_path):
    write(tmp_path, "p.toml", SMALL + '[training]\ndataset = "moons"\nsamples = 1000000\n')
    refused(tg("train", "p.toml", "--no-progress", cwd=tmp_path), "p.toml", "training.samples",
            says="--limit dataset_rows=N")


def test_a_dataset_cell_with_thousands_of_digits(tmp_path):
    write(tmp_path, "d.csv", "1,2,0\n" + "9" * 5000 + ",1,1\n")
    write(tmp_path, "p.toml", SMALL + '[training]\ndataset = "d.csv"\nepochs = 1\ntest_split = 0\n')
    refused(tg("train", "p.toml", "--no-progress", cwd=tmp_path), "p.toml", "training.dataset", says="row 2")


def test_a_trace_step_beyond_the_run(tmp_path):
    write(tmp_path, "p.toml", SMALL + '[training]\ndataset = "xor"\nepochs = 1\n')
    run = tg("train", "p.toml", "--no-progress", "-o", "out", "--trace-step", 10 ** 30, cwd=tmp_path)
    refused(run, "p.toml", says="--trace-step")
    assert not (tmp_path / "out").exists()


def test_verify_of_a_network_beyond_the_symbolic_budget(tmp_path):
    write(tmp_path, "seed.toml", SEED)
    refused(tg("verify", "seed.toml", "--limit", "symbolic_nodes=20", cwd=tmp_path), "seed.toml",
            says="--limit symbolic_nodes=N")


# --- what reaches a terminal ------------------------------------------------------------


def test_control_characters_never_reach_the_terminal(tmp_path):
    write(tmp_path, "p.toml", 'title = "\x1b]0;owned\x07 \x9b2J"\n' + SMALL.replace("[data]", '\x1b[2J = 1\n[data]'))
    run = tg("derive", "p.toml", cwd=tmp_path)
    refused(run, "p.toml")
    assert "\x1b" not in run.err and "\x9b" not in run.err
    write(tmp_path, "p.toml", 'title = "\\u001b]0;owned\\u0007 \\u009b2J \\u202e"\n' + SMALL)
    run = tg("derive", "p.toml", "--format", "text", cwd=tmp_path)
    assert run.code == 0 and not any(c in run.out for c in "\x1b\x07\x9b\u202e")


@pytest.mark.parametrize("setting, says", [
    ("units=0", "at least 1"), ("units=abc", "is not NAME=N"), ("nosuch=1", "unknown limit"),
])
def test_bad_limit_settings(tmp_path, setting, says):
    write(tmp_path, "seed.toml", SEED)
    refused(tg("derive", "seed.toml", "--limit", setting, cwd=tmp_path), "--limit", says=says)


def test_a_raised_limit_lets_a_larger_input_through(tmp_path):
    write(tmp_path, "p.toml", f'title = "{"t" * 1500}"\n' + SMALL)
    refused(tg("derive", "p.toml", cwd=tmp_path), "p.toml", "title", says="--limit text_chars=N")
    assert tg("derive", "p.toml", "--limit", "text_chars=2000", cwd=tmp_path).code == 0


# --- the core mechanisms through the Python API ---------------------------------------------


@pytest.mark.parametrize("text, fmt, key, says", [
    ('{"a": "x\\udc00"}', "json", "a", "surrogate"),
    ('{"a": 1, "a": 2}', "json", "a", "twice"),
    ('{"a": {"b": [1, {"c": 1, "c": 2}]}}', "json", "a.b[1].c", "twice"),
    ("a = 1979-05-27\n", "toml", "a", "date or time"),
    ('"x.y" = 1979-05-27\n', "toml", '"x.y"', "date or time"),
    ("[" * 17 + "]" * 17, "json", "line 1", "nesting"),
], ids=["surrogate", "duplicate", "nested-duplicate", "date", "quoted-key", "depth"])
def test_parse_document_bounds_request_bodies(text, fmt, key, says):
    from tracegrad.core.errors import InputError
    from tracegrad.core.files import parse_document

    with pytest.raises(InputError) as caught:
        parse_document(text, "<request>", fmt)
    assert caught.value.file == "<request>" and caught.value.key == key and says in str(caught.value)


def test_an_interrupted_output_set_leaves_the_earlier_set(tmp_path):
    from tracegrad.core.files import OutputSet

    with OutputSet(tmp_path / "v", "variants") as out:
        out.write("a.toml", "one\n")
        out.commit()
    before = digest(tmp_path)
    with pytest.raises(KeyboardInterrupt):
        with OutputSet(tmp_path / "v", "variants") as out:
            out.write("a.toml", "two\n")
            raise KeyboardInterrupt
    assert digest(tmp_path) == before and sorted(os.listdir(tmp_path)) == ["v"]


def test_limits_can_be_raised_from_python():
    import tracegrad
    from tracegrad.core.errors import InputError
    from tracegrad.core.limits import raised
    from tracegrad.problem.schema import parse_problem
    import tomllib

    data = tomllib.loads(SMALL.replace("x = [1, 2]", "x = [" + ", ".join(["[1, 2]"] * 101) + "]")
                         .replace("y = 0.5", "y = [" + ", ".join(["0.5"] * 101) + "]"))
    with pytest.raises(InputError, match="samples"):
        parse_problem(data)
    with raised(samples=200):
        assert len(parse_problem(data).x) == 101
    assert tracegrad  # the package imports with the limits in place
