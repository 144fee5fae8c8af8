"""The findings of the hostile-input review (issue 15), one regression test each.

Each test reproduces the attack as the review ran it (or with a smaller size that still
exceeds the limit) and asserts the safe outcome: the user's files untouched byte for byte,
exit code 0 or 2 with one line naming the file and key, nothing read outside the problem's
folder, no code run.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import time

import pytest

from tests.attacks.harness import DATA, ISOLATED, SEED, SEED_VARIANTS, digest, refused, tg, write

LAYER = '[[layers]]\nweights = [[0.5], [0.7]]\nbias = 0.1\nactivation = "sigmoid"\n'
DATA_XY = "[data]\nx = [1, 2]\ny = 0.5\n"
SMALL = LAYER + DATA_XY


def _train_problem(dataset: str, extra: str = "") -> str:
    return SMALL + f'[training]\ndataset = "{dataset}"\nepochs = 1\ntest_split = 0\ntarget_columns = 1\n' + extra


# --- critical -----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["key.json", "key.csv"])
def test_c1_variants_never_replace_their_source_problem(tmp_path, name):
    folder = tmp_path / "vk"
    source = SEED_VARIANTS if name.endswith(".csv") else json.dumps(_seed_variants_json())
    write(folder, name, source)
    before = digest(tmp_path)
    refused(tg("variants", f"vk/{name}", "--count", 2, "-o", "vk", cwd=tmp_path), "vk",
            says="the folder of an input file")
    assert digest(tmp_path) == before


def _seed_variants_json() -> dict:
    import tomllib

    return tomllib.loads(SEED_VARIANTS)


def test_c2_train_never_overwrites_its_dataset(tmp_path):
    rows = "x1,y\n" + "".join(f"{i / 10},{i % 2}\n" for i in range(10))
    write(tmp_path, "history.csv", rows)
    write(tmp_path, "p.toml", LAYER.replace("[[0.5], [0.7]]", "[0.5]") + "[data]\nx = [1]\ny = 0.5\n"
          + '[training]\ndataset = "history.csv"\nepochs = 1\ntest_split = 0\n')
    before = digest(tmp_path)
    refused(tg("train", "p.toml", "-o", ".", "--no-progress", cwd=tmp_path), ".", says="the folder of an input file")
    write(tmp_path, "elsewhere/history.csv", rows)  # a folder holding the user's own files
    before = digest(tmp_path)
    refused(tg("train", "p.toml", "-o", "elsewhere", "--no-progress", cwd=tmp_path), "elsewhere",
            says="did not write (history.csv)")
    assert digest(tmp_path) == before


@pytest.mark.parametrize("dataset", ["../secret/grades.csv", "/etc/shadow", "/etc/no-such-file.csv"])
def test_c3_datasets_outside_the_problem_folder_are_not_read(tmp_path, dataset):
    write(tmp_path, "secret/grades.csv", "1,2\n3,4\n5,6\n")
    work = tmp_path / "work"
    write(work, "p.toml", _train_problem(dataset))
    run = tg("train", "p.toml", "-o", "out", "--trace-step", 1, "--no-progress", cwd=work)
    line = refused(run, "p.toml", "training.dataset", says="outside the folder of the problem file")
    assert "--data-dir" in line and "row" not in line and not (work / "out").exists()


def test_c3_the_message_is_the_same_whether_the_outside_file_exists(tmp_path):
    runs = []
    for dataset in ("/etc/passwd", "/etc/no-such-file"):
        write(tmp_path, "p.toml", _train_problem(dataset))
        runs.append(tg("train", "p.toml", "--no-progress", cwd=tmp_path).err.replace(dataset, "X"))
    assert runs[0] == runs[1]


def test_c3_a_data_dir_flag_allows_another_folder(tmp_path):
    write(tmp_path, "shared/d.csv", "".join(f"{i / 10},{i / 20},{i % 2}\n" for i in range(10)))
    write(tmp_path, "work/p.toml", _train_problem("../shared/d.csv"))
    run = tg("train", "p.toml", "--no-progress", "--data-dir", "../shared", cwd=tmp_path / "work")
    assert run.code == 0, run.err


def test_c3_a_symbolic_link_inside_the_folder_does_not_lead_outside(tmp_path):
    write(tmp_path, "secret.csv", "1,2,3\n4,5,6\n")
    write(tmp_path, "work/p.toml", _train_problem("d.csv"))
    os.symlink(tmp_path / "secret.csv", tmp_path / "work" / "d.csv")
    refused(tg("train", "p.toml", "--no-progress", cwd=tmp_path / "work"), "p.toml", "training.dataset",
            says="outside")


def test_c4_a_user_template_runs_no_code(tmp_path):
    shutil.copy(DATA / "template_exec.md.j2", tmp_path / "derive.md.j2")
    write(tmp_path, "seed.toml", SEED)
    run = tg("derive", "seed.toml", "--template-dir", ".", cwd=tmp_path, isolated=True)
    refused(run, "derive.md.j2", says="unsafe")
    assert not (tmp_path / "PWNED").exists()


def test_c4_catalog_placeholders_have_no_attribute_access(tmp_path):
    write(tmp_path, "messages/en.toml", (DATA / "catalog_format.toml").read_text())
    write(tmp_path, "seed.toml", SEED)
    run = tg("derive", "seed.toml", "--template-dir", ".", cwd=tmp_path)
    refused(run, "messages/en.toml", "caption.z", says="placeholder")
    assert "mro" not in run.out and "object" not in run.out


# --- high -----------------------------------------------------------------------------


def _fifo(tmp_path, name):
    path = tmp_path / name
    os.mkfifo(path)
    return path


@pytest.mark.parametrize("kind", ["fifo", "link to fifo", "link to /dev/null", "directory"])
def test_h2_output_onto_a_special_file_is_refused(tmp_path, kind):
    write(tmp_path, "seed.toml", SEED)
    if kind == "fifo":
        _fifo(tmp_path, "out")
    elif kind == "link to fifo":
        _fifo(tmp_path, "pipe")
        os.symlink(tmp_path / "pipe", tmp_path / "out")
    elif kind == "link to /dev/null":
        os.symlink("/dev/null", tmp_path / "out")  # as /proc/self/fd/1 is a link to a pipe or terminal
    else:
        (tmp_path / "out").mkdir()
    before = digest(tmp_path)
    refused(tg("derive", "seed.toml", "-o", "out", cwd=tmp_path, isolated=True), "out", says="not a regular file")
    assert digest(tmp_path) == before
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


HUGE_INT = "1" * 5000


@pytest.mark.parametrize("name, text", [
    ("p.toml", SMALL.replace("bias = 0.1", f"bias = {HUGE_INT}")),
    ("p.json", json.dumps({"layers": [{"weights": [0.5, 0.7], "bias": 0.1, "activation": "sigmoid"}],
                           "data": {"x": [1, 2], "y": 0.5}}).replace("0.1", HUGE_INT)),
], ids=["toml", "json"])
def test_h3_a_5000_digit_integer_in_a_problem(tmp_path, name, text):
    write(tmp_path, name, text)
    refused(tg("derive", name, cwd=tmp_path), name, says="number_digits")


@pytest.mark.parametrize("name, value", [
    ("a.toml", HUGE_INT), ("a.json", HUGE_INT), ("a.toml", "2.4e-99999999"), ("a.json", "2.4e-99999999"),
    ("a.toml", "0." + "1" * 100_000),
], ids=["toml-int", "json-int", "toml-tiny", "json-tiny", "toml-long-decimal"])
def test_h3_huge_and_tiny_numbers_in_answers(tmp_path, name, value):
    write(tmp_path, "seed.toml", SEED)
    text = f'{{"answers": {{"z1": [{value}, 2.4]}}}}' if name.endswith(".json") else f"[answers]\nz1 = [{value}, 2.4]\n"
    write(tmp_path, name, text)
    run = tg("check", "seed.toml", name, cwd=tmp_path)
    refused(run, name)
    assert "number_digits" in run.err or "answers.z1[0]" in run.err


def test_h3_a_lone_surrogate_in_a_json_title(tmp_path):
    shutil.copy(DATA / "surrogate_title.json", tmp_path / "p.json")
    refused(tg("derive", "p.json", cwd=tmp_path), "p.json", "title", says="surrogate")


def test_h3_a_toml_datetime_in_training_with_variants(tmp_path):
    shutil.copy(DATA / "datetime_training.toml", tmp_path / "p.toml")
    refused(tg("variants", "p.toml", "--count", 2, "-o", "v", cwd=tmp_path), "p.toml", "training.started",
            says="date or time")
    assert not (tmp_path / "v").exists()


def test_h3_categorical_loss_with_one_output_unit_in_train(tmp_path):
    write(tmp_path, "p.toml", SMALL + '[loss]\nname = "cce_logits"\n[training]\ndataset = "spirals"\n'
          "samples = 30\nepochs = 2\n")
    refused(tg("train", "p.toml", "--no-progress", cwd=tmp_path), "p.toml", "loss", says="output units")


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
@pytest.mark.parametrize("role", ["problem", "answers", "dataset"])
def test_h3_devices_are_refused_at_once(tmp_path, device, role):
    write(tmp_path, "seed.toml", SEED)
    os.symlink(device, tmp_path / "dev.toml")
    os.symlink(device, tmp_path / "dev.csv")
    started = time.monotonic()
    if role == "problem":
        refused(tg("derive", device, cwd=tmp_path, **ISOLATED), device, says="cannot be read")
        refused(tg("derive", "dev.toml", cwd=tmp_path, **ISOLATED), "dev.toml", says="cannot be read")
    elif role == "answers":
        refused(tg("check", "seed.toml", device, cwd=tmp_path, **ISOLATED), device, says="cannot be read")
    else:  # a link out of the folder is refused unread; allowed with --data-dir, the device is not read
        write(tmp_path, "p.toml", _train_problem("dev.csv"))
        refused(tg("train", "p.toml", "--no-progress", cwd=tmp_path, timeout=10), "p.toml", "training.dataset",
                says="outside")
        refused(tg("train", "p.toml", "--no-progress", "--data-dir", "/dev", cwd=tmp_path, **ISOLATED), "p.toml",
                "training.dataset", says="dev.csv: cannot be read")
    assert time.monotonic() - started < 10


def test_h4_a_50000_level_dotted_key(tmp_path):
    write(tmp_path, "p.toml", SMALL + "[render]\n" + ".".join(["a"] * 50_000) + " = 1\n")
    started = time.monotonic()
    refused(tg("derive", "p.toml", cwd=tmp_path, **ISOLATED), "p.toml", "line 9", says="key_depth")
    assert time.monotonic() - started < 10


@pytest.mark.parametrize("units", [101, 1000])
def test_h4_a_huge_layer(tmp_path, units):
    rows = ", ".join("[" + ", ".join(["0"] * units) + "]" for _ in range(2))
    write(tmp_path, "p.toml", f"[[layers]]\nweights = [{rows}]\nbias = 0\nactivation = \"identity\"\n"
          f"[data]\nx = [1, 2]\ny = [{', '.join(['0'] * units)}]\n")
    refused(tg("derive", "p.toml", cwd=tmp_path), "p.toml", "layers[0].weights", says="--limit units=N")


def test_h4_a_layer_larger_than_the_file_limit(tmp_path):
    row = "[" + ", ".join(["0"] * 1000) + "]"
    write(tmp_path, "p.toml", "[[layers]]\nweights = [" + ", ".join([row] * 1000) + "]\nbias = 0\n"
          'activation = "identity"\n' + DATA_XY)
    refused(tg("derive", "p.toml", cwd=tmp_path), "p.toml", says="--limit file_bytes=N")


def test_h4_a_batch_of_many_samples(tmp_path):
    write(tmp_path, "p.toml", LAYER + "[data]\nx = [" + ", ".join(["[1, 2]"] * 10_000) + "]\ny = ["
          + ", ".join(["0.5"] * 10_000) + "]\n")
    refused(tg("derive", "p.toml", cwd=tmp_path), "p.toml", "data.x", says="--limit samples=N")


def test_h4_answers_with_too_many_elements(tmp_path):
    write(tmp_path, "seed.toml", SEED)
    write(tmp_path, "a.toml", "[answers]\nz1 = [" + ", ".join(["[0, 0]"] * 501) + "]\n")
    refused(tg("check", "seed.toml", "a.toml", "--limit", "answers=1000", cwd=tmp_path), "a.toml", "answers.z1",
            says="--limit answers=N")
    write(tmp_path, "a.toml", "[answers]\nz1 = [" + ", ".join(["0"] * 10_000_000) + "]\n")  # 20 MB
    started = time.monotonic()
    refused(tg("check", "seed.toml", "a.toml", cwd=tmp_path, isolated=True), "a.toml", says="--limit file_bytes=N")
    assert time.monotonic() - started < 10


def test_h4_variants_count_is_bounded_before_anything_is_written(tmp_path):
    write(tmp_path, "p.toml", SEED_VARIANTS)
    refused(tg("variants", "p.toml", "--count", 100_000, "-o", "v", cwd=tmp_path, isolated=True), "p.toml", "--count",
            says="--limit variants=N")
    assert not (tmp_path / "v").exists()


@pytest.mark.parametrize("args, text, key", [
    (["--epochs", "100000000000000000000"], "", "--epochs"),
    ([], "epochs = 1000000\n", "training.epochs"),
], ids=["flag", "key"])
def test_h4_epochs_times_iterations_is_bounded(tmp_path, args, text, key):
    write(tmp_path, "p.toml", SMALL + '[training]\ndataset = "xor"\n' + text)
    started = time.monotonic()
    refused(tg("train", "p.toml", "--no-progress", *args, cwd=tmp_path, isolated=True), "p.toml", key,
            says="--limit iterations=N")
    assert time.monotonic() - started < 10


def test_h4_a_dataset_larger_than_the_limit(tmp_path):
    with open(tmp_path / "d.csv", "wb") as handle:  # sparse: 21 MB of NUL bytes without writing them
        handle.truncate(21_000_000)
    write(tmp_path, "p.toml", _train_problem("d.csv"))
    refused(tg("train", "p.toml", "--no-progress", cwd=tmp_path, isolated=True), "p.toml", "training.dataset",
            says="d.csv: the file is larger than 20,000,000 bytes")


def test_h4_a_dataset_with_too_many_rows(tmp_path):
    write(tmp_path, "d.csv", "0,0,1\n" * 100_001)
    write(tmp_path, "p.toml", _train_problem("d.csv"))
    refused(tg("train", "p.toml", "--no-progress", cwd=tmp_path), "p.toml", "training.dataset",
            says="--limit dataset_rows=N")


@pytest.mark.parametrize("role", ["problem", "answers", "dataset"])
def test_h4_a_fifo_never_hangs(tmp_path, role):
    write(tmp_path, "seed.toml", SEED)
    _fifo(tmp_path, "f.toml")
    _fifo(tmp_path, "f.csv")
    if role == "problem":
        refused(tg("derive", "f.toml", cwd=tmp_path, **ISOLATED), "f.toml", says="cannot be read")
    elif role == "answers":
        refused(tg("check", "seed.toml", "f.toml", cwd=tmp_path, **ISOLATED), "f.toml", says="cannot be read")
    else:
        write(tmp_path, "p.toml", _train_problem("f.csv"))
        refused(tg("train", "p.toml", "--no-progress", cwd=tmp_path, **ISOLATED), "p.toml", "training.dataset",
                says="f.csv: cannot be read")


def test_h4_symbolic_work_of_nested_kinks_is_bounded(tmp_path):
    expression = "x"
    for _ in range(20):
        expression = f"abs(relu({expression}))"
    started = time.monotonic()
    refused(tg("expr", expression, "--at", "x=0.5", "--verify", cwd=tmp_path, timeout=10), "expression",
            says="--limit symbolic_kinks=N")
    assert time.monotonic() - started < 10


@pytest.mark.parametrize("size", [1001, 2_000_000])
def test_h4_a_huge_title(tmp_path, size):
    write(tmp_path, "p.toml", f'title = "{"t" * size}"\n' + SMALL)
    refused(tg("derive", "p.toml", cwd=tmp_path), "p.toml", says="--limit")


# --- medium ---------------------------------------------------------------------------


def _variants(tmp_path, count, *extra):
    return tg("variants", "p.toml", "--count", count, "-o", "v", *extra, cwd=tmp_path)


def test_m1_a_rerun_replaces_the_whole_set(tmp_path):
    write(tmp_path, "p.toml", SEED_VARIANTS)
    assert _variants(tmp_path, 5).code == 0
    run = _variants(tmp_path, 2, "--seed", 3)
    assert run.code == 0, run.err
    names = sorted(p.name for p in (tmp_path / "v").iterdir())
    assert names == ["key.csv", "key.json", "p-001.key.toml", "p-001.toml", "p-002.key.toml", "p-002.toml",
                     "tracegrad-manifest.json"]
    assert sorted(json.loads((tmp_path / "v" / "key.json").read_text())) == ["p-001", "p-002"]


def test_m1_a_folder_with_a_file_of_the_user_is_refused(tmp_path):
    write(tmp_path, "p.toml", SEED_VARIANTS)
    assert _variants(tmp_path, 2).code == 0
    write(tmp_path, "v/answers-li.toml", "[answers]\nz1 = 1\n")
    before = digest(tmp_path)
    refused(_variants(tmp_path, 2), "v", says="answers-li.toml")
    assert digest(tmp_path) == before


def test_m1_an_edited_earlier_file_is_not_replaced(tmp_path):
    write(tmp_path, "p.toml", SEED_VARIANTS)
    assert _variants(tmp_path, 2).code == 0
    with open(tmp_path / "v" / "key.csv", "a") as handle:
        handle.write("a teacher's note\n")
    before = digest(tmp_path)
    refused(_variants(tmp_path, 2), "v", says="key.csv was changed")
    assert digest(tmp_path) == before


def test_m2_output_never_goes_into_the_template_dir(tmp_path):
    write(tmp_path, "seed.toml", SEED)
    write(tmp_path, "tpl/messages/en.toml", '[section]\nforward = "Forward"\n')
    before = digest(tmp_path)
    refused(tg("derive", "seed.toml", "--template-dir", "tpl", "-o", "tpl/messages/en.toml", cwd=tmp_path),
            "tpl/messages/en.toml", says="a folder the command reads")
    assert digest(tmp_path) == before


def test_m3_variant_ranges_that_overflow(tmp_path):
    write(tmp_path, "p.toml", SEED_VARIANTS.replace("weights = { low = -1, high = 1, decimals = 1 }",
                                                    "weights = { low = -1e308, high = 1e308 }"))
    refused(_variants(tmp_path, 2), "p.toml", "variants.weights", says="±1,000,000")
    assert not (tmp_path / "v").exists()


def test_m4_an_answer_named_like_an_internal_node(tmp_path):
    # a variable named like an intermediate (v3): the intermediates take another letter (u3), so every name
    # means one node; the variable's own name is no computed quantity, and an answer under it is refused
    write(tmp_path, "e.toml", 'expression = "x * y + v3"\n[at]\nx = 1\ny = 2\nv3 = 3\n[answers]\nv3 = 3\n')
    refused(tg("check", "e.toml", cwd=tmp_path), "e.toml", "answers.v3", says="u3 (a number)")
    write(tmp_path, "f.toml", 'expression = "x * y + v3"\n[at]\nx = 1\ny = 2\nv3 = 3\n[answers]\nu3 = 2\n'
                              '"df/dv3" = 1\nf = 5\n')
    run = tg("check", "f.toml", cwd=tmp_path)
    assert run.code == 0, run.err


@pytest.mark.parametrize("text, key", [
    ('[optimizer]\nname = "sgd"\nlr = -1\n', "optimizer.lr"),
    ('[loss]\nname = "bce"\n', "data.y[0]"),
], ids=["optimizer", "loss"])
def test_m5_messages_name_the_file_and_the_key(tmp_path, text, key):
    body = SMALL.replace("y = 0.5", "y = 2.5") if "bce" in text else SMALL
    write(tmp_path, "p.toml", body + text)
    refused(tg("derive", "p.toml", cwd=tmp_path), "p.toml", key)


def test_m5_an_overflow_names_the_file(tmp_path):
    write(tmp_path, "p.toml", SMALL.replace("x = [1, 2]", "x = [1e308, 2]").replace("0.5], [0.7", "10], [0.7"))
    refused(tg("derive", "p.toml", cwd=tmp_path), "p.toml", says="overflows")


def test_m6_x_to_the_zero_at_zero(tmp_path):
    run = tg("expr", "x**0", "--at", "x=0", cwd=tmp_path)
    line = refused(run, "derivative of pow(x = 0.0, exponent = 0.0)") if run.code == 2 else ""
    assert run.code == 0 or ("negative base" not in line and "exponent of at least 1" in line), run.err


def test_m7_a_read_only_folder_is_reported_by_the_target_name(tmp_path):
    write(tmp_path, "seed.toml", SEED)
    run = tg("derive", "seed.toml", "-o", "/proc/out.md", cwd=tmp_path)
    line = refused(run, "/proc/out.md", says="cannot write")
    assert ".tmp" not in line


# --- low ------------------------------------------------------------------------------


def test_l1_non_latin_math_labels_compile_with_pdflatex(tmp_path):
    run = tg("expr", "ж * 2 + λ", "--at", "ж=1", "λ=2", "--format", "latex", "-o", "f.tex", cwd=tmp_path)
    assert run.code == 0, run.err
    text = (tmp_path / "f.tex").read_text(encoding="utf-8")
    assert all(ord(c) < 256 for c in text), [c for c in text if ord(c) >= 256][:5]
    if shutil.which("pdflatex"):
        import subprocess

        done = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "f.tex"], cwd=tmp_path,
                              capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
        assert done.returncode == 0, done.stdout[-2000:]


def test_l2_file_names_do_not_reach_toml_comments_or_csv_formulas(tmp_path):
    name = '=HYPERLINK("x")\n[answers]\nf = 1.toml'
    write(tmp_path, name, SEED_VARIANTS)
    run = tg("variants", name, "--count", 1, "-o", "v", cwd=tmp_path)
    assert run.code == 0, run.err
    import tomllib

    for path in (tmp_path / "v").glob("*.key.toml"):
        text = path.read_text(encoding="utf-8")
        assert list(tomllib.loads(text)) == ["answers"]
        header = text.split("[answers]")[0]
        assert header.strip() and all(line.startswith("#") for line in header.splitlines() if line.strip())
    import csv

    cells = [row[0] for row in csv.reader((tmp_path / "v" / "key.csv").open(encoding="utf-8"))][1:]
    assert cells and all(not c or c[0] not in "=+-@\t\r" for c in cells)


def test_l3_output_files_honour_the_umask(tmp_path):
    write(tmp_path, "seed.toml", SEED)
    write(tmp_path, "p.toml", SEED_VARIANTS)
    assert tg("derive", "seed.toml", "-o", "out.md", cwd=tmp_path, umask=0o022).code == 0
    assert tg("variants", "p.toml", "--count", 1, "-o", "v", cwd=tmp_path, umask=0o022).code == 0
    assert stat.S_IMODE(os.stat(tmp_path / "out.md").st_mode) == 0o644
    assert stat.S_IMODE(os.stat(tmp_path / "v").st_mode) == 0o755
    assert {stat.S_IMODE(p.stat().st_mode) for p in (tmp_path / "v").iterdir()} == {0o644}


def test_l4_duplicate_json_keys(tmp_path):
    shutil.copy(DATA / "duplicate_keys.json", tmp_path / "p.json")
    refused(tg("derive", "p.json", cwd=tmp_path), "p.json", "data.y", says="twice")


def test_l4_unknown_training_keys(tmp_path):
    write(tmp_path, "p.toml", SMALL + '[training]\ndataset = "xor"\nepoch = 5\n')
    refused(tg("derive", "p.toml", cwd=tmp_path), "p.toml", "training.epoch", says="unknown key")


def test_l5_no_newline_or_bidi_override_in_text_output(tmp_path):
    write(tmp_path, "p.toml", 'title = "Homework \u202eevil\u202c\\nFAKE: all correct"\n' + SMALL)
    run = tg("derive", "p.toml", "--format", "text", cwd=tmp_path)
    assert run.code in (0, 2), run.err
    if run.code == 2:
        refused(run, "p.toml", "title")
    else:
        assert not re.search("[\u202a-\u202e\u2066-\u2069]", run.out)
        assert not any(line.startswith("FAKE") for line in run.out.splitlines())


def test_l6_a_huge_learning_rate_prints_short_numbers(tmp_path):
    write(tmp_path, "p.toml", SMALL + '[optimizer]\nname = "sgd"\nlr = 1e308\n')
    run = tg("derive", "p.toml", "--format", "text", cwd=tmp_path)
    assert run.code in (0, 2), run.err
    assert not re.search(r"\d{30}", run.out + run.err)


def test_l7_replay_refuses_an_ambiguous_label():
    import tracegrad as tg_
    from tracegrad.core.errors import InputError

    a, b = tg_.Value(1.0, label="x"), tg_.Value(2.0, label="x")
    t = tg_.trace(a * b)
    with pytest.raises(InputError, match="x.*2 nodes"):
        t.replay(values={"x": 3.0})
    assert t.replay(values={0: 3.0}).output.data == 6.0
