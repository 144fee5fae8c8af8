"""Dropout and BatchNorm in training and inference mode, checked by hand and by finite differences."""

import math

import pytest
from conftest import central_difference

import tracegrad as tg
from tracegrad.core.errors import InputError
from tracegrad.nn import MLP, BatchNorm, Dropout


def test_dropout_train_mode_masks_and_scales_and_records_the_mask():
    drop = Dropout(0.5, seed=3, layer=1)
    x = [tg.Value(float(v)) for v in range(1, 9)]
    with tg.record() as rec:
        out = drop(x)
    (mask,) = drop.last_mask
    assert set(mask) <= {0.0, 2.0} and 0.0 in mask and 2.0 in mask
    assert [v.data for v in out] == [xi.data * m for xi, m in zip(x, mask)]
    recorded = {n.label: n.data for n in rec.trace.nodes if n.role is not None and n.role.quantity == "mask"}
    assert recorded == {f"mask1[{j}]": m for j, m in enumerate(mask)}
    # dropped units pass no gradient, kept ones pass 1/(1-p)
    tg.sum(out).backward()
    assert [v.grad for v in x] == mask


def test_dropout_is_seeded_and_unbiased_on_average():
    a, b = Dropout(0.3, seed=11), Dropout(0.3, seed=11)
    x = [1.0] * 20
    assert [v.data for v in a(x)] == [v.data for v in b(x)]
    big = Dropout(0.3, seed=5)
    outs = [v.data for _ in range(200) for v in big([1.0] * 50)]
    dropped = sum(1 for v in outs if v == 0) / len(outs)
    assert dropped == pytest.approx(0.3, abs=0.02)
    assert sum(outs) / len(outs) == pytest.approx(1.0, abs=0.05)  # inverted scaling keeps the mean


def test_dropout_eval_mode_is_the_identity():
    drop = Dropout(0.9, seed=0).eval()
    x = [tg.Value(1.5), tg.Value(-2.0)]
    assert drop(x) == x
    with pytest.raises(InputError, match=r"\[0, 1\)"):
        Dropout(1.0)


BATCH = [1.0, 2.0, 3.0, 6.0]
COEF = [0.3, -1.2, 0.7, 2.0]


def test_batchnorm_train_mode_uses_batch_statistics():
    bn = BatchNorm(1, layer=1)
    xs = [[tg.Value(v)] for v in BATCH]
    outs = bn.batch(xs)
    # by hand: mean 3, biased variance (4 + 1 + 0 + 9)/4 = 3.5
    expected = [(v - 3.0) / math.sqrt(3.5 + 1e-5) for v in BATCH]
    assert [o[0].data for o in outs] == pytest.approx(expected, rel=1e-12)
    assert [o[0].label for o in outs] == ["bn1[0]@0", "bn1[0]@1", "bn1[0]@2", "bn1[0]@3"]
    # running statistics move 10 % of the way; the variance is the unbiased one (3.5 * 4/3)
    assert bn.running_mean == pytest.approx([0.3])
    assert bn.running_var == pytest.approx([0.9 + 0.1 * 3.5 * 4 / 3])
    # gradients through the batch statistics, against finite differences of the formula
    total = tg.sum([c * o[0] for c, o in zip(COEF, outs)])
    total.backward()

    def f(batch):
        mu = sum(batch) / len(batch)
        var = sum((v - mu) ** 2 for v in batch) / len(batch)
        return sum(c * (v - mu) / math.sqrt(var + 1e-5) for c, v in zip(COEF, batch))

    for i, x in enumerate(xs):
        assert x[0].grad == pytest.approx(central_difference(f, BATCH, i), rel=1e-6)
    assert bn.beta[0].grad == pytest.approx(sum(COEF))
    assert bn.gamma[0].grad == pytest.approx(sum(c * e for c, e in zip(COEF, expected)))


def test_batchnorm_eval_mode_uses_running_statistics():
    bn = BatchNorm(1)
    bn.batch([[v] for v in BATCH])
    bn.eval()
    mean, var = 0.3, 0.9 + 0.1 * 3.5 * 4 / 3
    out = bn([2.0])
    assert out[0].data == pytest.approx((2.0 - mean) / math.sqrt(var + 1e-5))
    # a batch in eval mode is normalised sample by sample, and leaves the statistics alone
    outs = bn.batch([[1.0], [5.0]])
    assert outs[1][0].data == pytest.approx((5.0 - mean) / math.sqrt(var + 1e-5))
    assert bn.running_mean == pytest.approx([mean])


def test_batchnorm_needs_a_batch_in_training_mode():
    bn = BatchNorm(2)
    with pytest.raises(InputError, match="whole batch"):
        bn([1.0, 2.0])
    with pytest.raises(InputError, match="at least 2 samples"):
        bn.batch([[1.0, 2.0]])


def test_network_train_and_eval_switch_every_module():
    net = MLP.stack([2, 3, 1], "relu", batchnorm=True, dropout=0.5, seed=1)
    block = net.layers[0]
    assert [type(m).__name__ for m in block.layers] == ["Dense", "BatchNorm", "Activation", "Dropout"]
    net.eval()
    assert not any(m.training for m in block.layers)
    one = net([0.5, -0.5])
    assert one.data == net([0.5, -0.5]).data  # no randomness in eval mode
    net.train()
    assert all(m.training for m in block.layers)
    assert len(net.batch([[0.5, -0.5], [1.0, 2.0], [0.0, 0.1]])) == 3
    names = [n for n, _ in net.named_parameters()]
    assert "gamma1[0]" in names and "beta1[2]" in names and "W2[2][0]" in names
