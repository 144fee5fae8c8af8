"""tracegrad train: datasets, the loop in the document's vocabulary, history files, and the
derivation of one iteration agreeing with the loop's own loss for that iteration."""

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from tracegrad.core.errors import InputError
from tracegrad.problem.schema import load_problem
from tracegrad.workflows.train import run, training_spec
from tracegrad.problem.solve import solve

ROOT = Path(__file__).resolve().parent.parent
MOONS = ROOT / "examples" / "moons_train.toml"


def with_training(tmp_path, table: str, base=MOONS) -> Path:
    text = base.read_text(encoding="utf-8")
    text = text[: text.index("[training]")] + table
    path = tmp_path / "p.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_iterations_per_epoch_and_the_loss_falls(tmp_path):
    path = with_training(tmp_path, '[training]\ndataset = "moons"\nsamples = 200\nseed = 1\nepochs = 15\n'
                                   "batch_size = 20\ntest_split = 0.25\nscale = \"zscore\"\n")
    result, _ = run(path, progress=False)
    # 200 samples, a quarter held out: 150 to train on, batches of 20 → ⌈150 / 20⌉ = 8 iterations per epoch
    assert result.history.iterations_per_epoch == math.ceil(150 / 20) == 8
    assert result.history.iterations == 15 * 8
    assert len(result.history.test_loss) == 15
    assert result.history.epoch_loss[-1] < result.history.epoch_loss[0] / 2
    assert result.test_accuracy > 0.8


@pytest.mark.parametrize("step", [1, 5])
def test_the_derivation_of_an_iteration_reproduces_its_loss(tmp_path, step):
    path = with_training(tmp_path, '[training]\ndataset = "moons"\nsamples = 40\nepochs = 2\nbatch_size = 4\n'
                                   "test_split = 0\n")
    result, problem = run(path, progress=False, trace_step=step)
    worked = solve(problem)
    # the loop computed this iteration's loss on the same batch with the same weights, by another path
    assert math.isclose(worked.value("loss"), result.history.iteration_loss[step - 1], rel_tol=1e-12)
    assert len(problem.x) == 4 and problem.batch
    if step == 1:  # before the first update the weights are the problem's own
        assert problem.layers[0].weights == load_problem(path).layers[0].weights


def test_csv_dataset_regression(tmp_path):
    rows = ["a,b,target"] + [f"{i / 10},{(i % 7) / 7},{0.5 * i / 10 - (i % 7) / 7 + 0.1}" for i in range(30)]
    (tmp_path / "data.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    base = ROOT / "examples" / "seed.toml"
    text = base.read_text(encoding="utf-8").replace('"sigmoid"\n\n[data]', '"identity"\n\n[data]')
    text = text.replace('name = "half_se"', 'name = "mse"')
    path = tmp_path / "p.toml"
    path.write_text(text + '\n[training]\ndataset = "data.csv"\nepochs = 200\ntest_split = 0\n', encoding="utf-8")
    result, _ = run(path, progress=False)
    assert result.history.iterations_per_epoch == 1  # batch gradient descent: the whole set per iteration
    assert result.train_loss < result.history.iteration_loss[0] / 4


@pytest.mark.parametrize("table,key", [
    ("", "training"),
    ('[training]\ndataset = "iris"\n', "training.dataset"),
    ('[training]\ndataset = "moons"\nepochs = 0\n', "training.epochs"),
    ('[training]\ndataset = "moons"\ntest_split = 1.5\n', "training.test_split"),
    ('[training]\ndataset = "moons"\nlr = 0.1\n', "training.lr"),
])
def test_bad_training_tables_are_named(tmp_path, table, key):
    path = with_training(tmp_path, table)
    with pytest.raises(InputError) as info:
        run(path, progress=False)
    assert f"{path}: {key}" in str(info.value)


def test_cli_plot_writes_the_loss_curve(tmp_path):
    pytest.importorskip("matplotlib")
    out = tmp_path / "run"
    path = with_training(tmp_path, '[training]\ndataset = "xor"\nsamples = 20\nepochs = 2\n')
    r = subprocess.run([sys.executable, "-m", "tracegrad", "train", str(path), "-o", str(out), "--plot"],
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr  # this crashed: the loss curve was given a list
    assert (out / "loss.png").read_bytes().startswith(b"\x89PNG")


def test_training_spec_defaults():
    spec = training_spec(load_problem(MOONS))
    assert (spec.dataset, spec.epochs, spec.batch_size, spec.test_split) == ("moons", 60, 20, 0.25)


def test_cli_writes_history_and_step(tmp_path):
    out = tmp_path / "run"
    path = with_training(tmp_path, '[training]\ndataset = "xor"\nsamples = 40\nnoise = 0.05\nepochs = 3\n'
                                   "batch_size = 8\n")
    r = subprocess.run([sys.executable, "-m", "tracegrad", "train", str(path), "-o", str(out), "--trace-step", "2"],
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    assert "iterations 12 (4 per epoch)" in r.stdout  # 30 training samples, batches of 8: ⌈30/8⌉ = 4
    history = json.loads((out / "history.json").read_text(encoding="utf-8"))
    assert len(history["iteration_loss"]) == 12 and len(history["epoch_loss"]) == 3
    assert (out / "history.csv").read_text(encoding="utf-8").startswith("iteration,epoch,loss\n1,1,")
    assert (out / "step-2.md").read_text(encoding="utf-8").startswith("# ")
    r = subprocess.run([sys.executable, "-m", "tracegrad", "train", str(path), "--trace-step", "99", "-o", str(out)],
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 2 and "iterations 1 … 12" in r.stderr


def test_compiled_replay_runs_the_same_training(tmp_path, monkeypatch):
    from tracegrad.nn import loop as nn_train

    path = with_training(tmp_path, '[training]\ndataset = "moons"\nsamples = 60\nseed = 3\nepochs = 3\n'
                                   "batch_size = 20\ntest_split = 0.25\nscale = \"zscore\"\nl2 = 0.001\n")
    used = []
    fit = nn_train.fit
    monkeypatch.setattr(nn_train, "fit", lambda *a, **k: used.append(k["compiled"]) or fit(*a, **k))
    fast, _ = run(path, progress=False)  # by default: compiled, since the network's graph is fixed
    plain, _ = run(path, progress=False, compiled=False)
    assert used == [True, False]
    # 45 training samples in batches of 20: 20, 20 and a last batch of 5
    assert fast.history.iterations == plain.history.iterations == 3 * 3
    for a, b in zip(plain.history.iteration_loss + plain.history.test_loss + [plain.train_loss, plain.test_loss],
                    fast.history.iteration_loss + fast.history.test_loss + [fast.train_loss, fast.test_loss]):
        assert math.isclose(a, b, rel_tol=1e-12)
    assert fast.train_accuracy == plain.train_accuracy and fast.test_accuracy == plain.test_accuracy
