"""Preprocessing and datasets: values by hand, round trips, seeds."""

import math

import pytest

from tracegrad.core.errors import InputError
from tracegrad.nn import data


def flat(rows):
    return [v for r in rows for v in r]


def test_clean_fills_with_mean_median_constant_and_reports():
    X = [[1.0, None], [3.0, 4.0], [float("nan"), 10.0], [8.0, 7.0]]
    filled, report = data.clean(X, "mean")
    assert filled[2][0] == pytest.approx((1 + 3 + 8) / 3) and filled[0][1] == pytest.approx((4 + 10 + 7) / 3)
    assert report.filled == ((0, 1), (2, 0))
    assert "filled 2 missing value(s) with the column mean" in str(report)
    filled, report = data.clean(X, "median")
    assert filled[2][0] == 3.0 and filled[0][1] == 7.0
    filled, _ = data.clean(X, "constant", fill_value=-1.0)
    assert filled[0][1] == -1.0 and filled[2][0] == -1.0


def test_clean_drops_rows_and_their_labels():
    X, y, report = data.clean([[1.0, None], [3.0, 4.0], [None, 1.0]], "drop", y=["a", "b", "c"])
    assert X == [[3.0, 4.0]] and y == ["b"] and report.dropped == (0, 2)
    assert "dropped 2 row(s)" in str(report)


def test_clean_errors_name_the_cell():
    with pytest.raises(InputError) as err:
        data.clean([[1.0, "x"]])
    assert err.value.key == "X[0][1]"
    with pytest.raises(InputError, match="no values"):
        data.clean([[None, 1.0], [None, 2.0]], "mean")


def test_min_max_scaler_by_hand_and_round_trip():
    train = [[1.0, 10.0], [3.0, 30.0], [5.0, 20.0]]
    s = data.MinMaxScaler().fit(train)
    assert flat(s.transform([[2.0, 25.0]])) == pytest.approx([0.25, 0.75])
    wide = data.MinMaxScaler((-1.0, 1.0)).fit(train)
    assert flat(wide.transform([[5.0, 10.0]])) == pytest.approx([1.0, -1.0])
    later = [[7.0, -5.0], [0.0, 12.5]]
    assert flat(wide.inverse_transform(wide.transform(later))) == pytest.approx(flat(later))


def test_z_score_by_hand_and_round_trip():
    train = [[1.0], [2.0], [3.0], [6.0]]
    s = data.StandardScaler().fit(train)
    sd = math.sqrt((4 + 1 + 0 + 9) / 4)  # population sd, mean 3
    assert flat(s.transform([[6.0]])) == pytest.approx([3 / sd])
    assert flat(s.inverse_transform(s.fit_transform(train))) == pytest.approx(flat(train))


def test_constant_feature_rule():
    X = [[5.0, 1.0], [5.0, 2.0]]
    assert [r[0] for r in data.StandardScaler().fit_transform(X)] == [0.0, 0.0]
    mm = data.MinMaxScaler((2.0, 3.0)).fit(X)
    assert [r[0] for r in mm.transform(X)] == [2.0, 2.0]
    assert [r[0] for r in mm.inverse_transform(mm.transform(X))] == [5.0, 5.0]


def test_scaler_errors():
    with pytest.raises(InputError, match="not fitted"):
        data.StandardScaler().transform([[1.0]])
    s = data.StandardScaler().fit([[1.0, 2.0], [2.0, 3.0]])
    with pytest.raises(InputError, match="expected 2 features"):
        s.transform([[1.0]])


def test_one_hot():
    rows, classes = data.one_hot(["cat", "dog", "cat", "bird"])
    assert classes == ["bird", "cat", "dog"]
    assert rows[0] == [0.0, 1.0, 0.0] and rows[3] == [1.0, 0.0, 0.0]
    with pytest.raises(InputError, match="not one of the classes"):
        data.one_hot([3], classes=[0, 1, 2])


def test_split_and_batches_are_seeded_and_cover_everything():
    X = [[float(i)] for i in range(10)]
    y = list(range(10))
    a = data.train_test_split(X, y, test_size=0.3, seed=4)
    b = data.train_test_split(X, y, test_size=0.3, seed=4)
    assert a == b and len(a[1]) == 3 and len(a[0]) == 7
    assert sorted(a[2] + a[3]) == y and all(x[0] == t for x, t in zip(a[0] + a[1], a[2] + a[3]))
    parts = data.batches(10, 3, seed=1)
    assert [len(p) for p in parts] == [3, 3, 3, 1] and sorted(sum(parts, [])) == y
    assert data.batches(10, None, shuffle=False) == [y]
    assert data.iterations_per_epoch(1000, 100) == 10 and data.iterations_per_epoch(1001, 100) == 11
    with pytest.raises(InputError, match="batch size"):
        data.batches(10, 0)


def test_augmentation():
    X, y = data.xor()
    J, Jy = data.jitter(X, y, sigma=0.01, copies=2, seed=0)
    assert len(J) == 12 and Jy == y * 3 and J[:4] == X
    assert all(abs(a - b) < 0.1 for r, s in zip(J[4:8], X) for a, b in zip(r, s))
    R, Ry = data.reflect([[1.0, 2.0]], [1], axes=(0, 1), center=(0.5, 0.0), label_map={1: 0})
    assert R == [[1.0, 2.0], [0.0, -2.0]] and Ry == [1, 0]


def test_datasets():
    X, y = data.xor()
    assert all(t == float((a > 0.5) != (b > 0.5)) for (a, b), t in zip(X, y))
    X, y = data.xor(40, noise=0.05, seed=2)
    assert all(t == float((a > 0.5) != (b > 0.5)) for (a, b), t in zip(X, y))
    X, y = data.moons(101, noise=0.0, seed=1)
    assert len(X) == 101 and sorted(set(y)) == [0, 1] and y.count(0) == 50
    # noiseless upper moon lies on the unit circle
    assert all(abs(a * a + b * b - 1) < 1e-12 for (a, b), t in zip(X, y) if t == 0)
    assert data.moons(50, seed=3) == data.moons(50, seed=3)
    X, y = data.spirals(30, classes=3, seed=0)
    assert len(X) == 90 and y.count(2) == 30
    X, y = data.linear(200, weights=(2.0, -3.0), bias=0.5, scales=(1.0, 100.0), noise=0.0, seed=0)
    assert all(t == pytest.approx(2 * a - 3 * b / 100 + 0.5) for (a, b), t in zip(X, y))
