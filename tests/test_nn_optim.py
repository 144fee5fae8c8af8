"""Optimizers against updates computed by hand; weight decay versus an L2 penalty; clipping."""

import math

import pytest

import tracegrad as tg
from tracegrad.core.errors import InputError
from tracegrad.nn import OPTIMIZERS, SGD, Adam, Momentum, RMSprop, clip_grad_norm, clip_grad_value
from tracegrad.nn.regularization import l1_penalty, l2_penalty


def run(opt_cls, grads, p0=0.5, **kw):
    """Apply one step per gradient in ``grads`` to a single parameter; returns its values."""
    p = tg.Value(p0, label="p")
    opt = opt_cls([p], **kw)
    seen = []
    for g in grads:
        opt.zero_grad()
        p.grad = g
        opt.step()
        seen.append(p.data)
    return seen, opt


def test_sgd_is_parameter_minus_rate_times_gradient():
    seen, opt = run(SGD, [0.2, -0.1], lr=0.1)
    assert seen == pytest.approx([0.5 - 0.02, 0.48 + 0.01])
    assert opt.iterations == 2 and opt.state == [{}]


def test_momentum_two_steps_by_hand():
    # v1 = 0.2, p1 = 0.5 - 0.1*0.2 = 0.48; v2 = 0.9*0.2 - 0.1 = 0.08, p2 = 0.48 - 0.008 = 0.472
    seen, opt = run(Momentum, [0.2, -0.1], lr=0.1, momentum=0.9)
    assert seen == pytest.approx([0.48, 0.472])
    assert opt.state[0]["v"] == pytest.approx(0.08)


def test_nesterov_two_steps_by_hand():
    # step 1: v = 0.2, direction = 0.2 + 0.9*0.2 = 0.38, p = 0.5 - 0.038 = 0.462
    # step 2: v = 0.18 - 0.1 = 0.08, direction = -0.1 + 0.072 = -0.028, p = 0.462 + 0.0028 = 0.4648
    seen, _ = run(SGD, [0.2, -0.1], lr=0.1, momentum=0.9, nesterov=True)
    assert seen == pytest.approx([0.462, 0.4648])


def test_rmsprop_two_steps_by_hand():
    # s1 = 0.01*0.04 = 4e-4, p1 = 0.5 - 0.01*0.2/(0.02 + 1e-8)
    p1 = 0.5 - 0.01 * 0.2 / (0.02 + 1e-8)
    # s2 = 0.99*4e-4 + 0.01*0.01 = 4.96e-4, p2 = p1 + 0.01*0.1/(sqrt(4.96e-4) + 1e-8)
    p2 = p1 + 0.01 * 0.1 / (math.sqrt(4.96e-4) + 1e-8)
    seen, opt = run(RMSprop, [0.2, -0.1], lr=0.01, alpha=0.99)
    assert seen == pytest.approx([p1, p2], rel=1e-12)
    assert opt.state[0]["s"] == pytest.approx(4.96e-4)


def test_adam_first_two_steps_by_hand():
    # step 1, g = 0.2: m = 0.1*0.2 = 0.02, v = 0.001*0.04 = 4e-5,
    #   m_hat = 0.02/(1-0.9) = 0.2, v_hat = 4e-5/(1-0.999) = 0.04, p = 0.5 - 0.1*0.2/(0.2 + 1e-8)
    p1 = 0.5 - 0.1 * 0.2 / (0.2 + 1e-8)
    # step 2, g = -0.1: m = 0.9*0.02 + 0.1*(-0.1) = 0.008, v = 0.999*4e-5 + 0.001*0.01 = 4.996e-5,
    #   m_hat = 0.008/(1-0.81) = 0.008/0.19, v_hat = 4.996e-5/(1-0.998001) = 4.996e-5/0.001999
    m_hat, v_hat = 0.008 / 0.19, 4.996e-5 / 0.001999
    p2 = p1 - 0.1 * m_hat / (math.sqrt(v_hat) + 1e-8)
    seen, opt = run(Adam, [0.2, -0.1], lr=0.1, betas=(0.9, 0.999))
    assert seen == pytest.approx([p1, p2], rel=1e-12)
    assert seen == pytest.approx([0.400000005, 0.3733663], rel=1e-6)
    assert opt.state_of(opt.params[0]) == pytest.approx({"t": 2, "m": 0.008, "v": 4.996e-5})


def test_weight_decay_equals_l2_penalty_for_sgd_but_not_for_adam():
    def grads_with_penalty(lam):
        p = tg.Value(0.5, label="W1[0]", role=tg.Role("W", 1, (0,)))
        loss = (p * 3.0) + l2_penalty([p], lam)  # dL/dp = 3 + lam*p
        loss.backward()
        return p

    lam = 0.1
    # SGD: coupled decay, decoupled decay and the L2 penalty give the same step
    p = grads_with_penalty(lam)
    SGD([p], lr=0.1).step()
    coupled, _ = run(SGD, [3.0], lr=0.1, weight_decay=lam)
    decoupled, _ = run(SGD, [3.0], lr=0.1, weight_decay=lam, decoupled=True)
    by_hand = 0.5 - 0.1 * (3.0 + lam * 0.5)
    assert p.data == pytest.approx(by_hand) and coupled == pytest.approx([by_hand])
    assert decoupled == pytest.approx([by_hand])
    # Adam: the L2 penalty equals coupled decay; AdamW (decoupled) differs
    p = grads_with_penalty(lam)
    Adam([p], lr=0.1).step()
    coupled, _ = run(Adam, [3.0], lr=0.1, weight_decay=lam)
    adamw, _ = run(Adam, [3.0], lr=0.1, weight_decay=lam, decoupled=True)
    # first Adam step moves by lr*g/(|g| + eps) ~ lr whatever g; AdamW adds lr*lam*p
    assert p.data == pytest.approx(coupled[0]) and coupled[0] == pytest.approx(0.5 - 0.1, rel=1e-7)
    assert adamw[0] == pytest.approx(0.5 - 0.1 - 0.1 * lam * 0.5, rel=1e-7)


def test_penalties_by_hand():
    w = [tg.Value(v, role=tg.Role("W", 1, (i,))) for i, v in enumerate([0.5, -2.0, 1.0])]
    l2 = l2_penalty(w, 0.1)
    assert l2.data == pytest.approx(0.05 * (0.25 + 4 + 1))
    l2.backward()
    assert [v.grad for v in w] == pytest.approx([0.05, -0.2, 0.1])
    for v in w:
        v.grad = 0.0
    l1 = l1_penalty(w, 0.1)
    assert l1.data == pytest.approx(0.1 * 3.5)
    l1.backward()
    assert [v.grad for v in w] == pytest.approx([0.1, -0.1, 0.1])


def test_graph_step_of_sgd_is_exactly_p_minus_lr_times_g():
    w = tg.Value(0.9, label="W2[0]")
    loss = (w * 0.8808 - 0.2).sigmoid()
    grads = loss.backward(create_graph=True)
    opt = SGD([w], lr=0.1)
    (new,) = opt.graph_step([w], [grads[w]])
    assert new.op == "sub" and new.inputs[0] is w
    prod = new.inputs[1]
    assert prod.op == "mul" and prod.inputs[0].op == "const" and prod.inputs[0].data == 0.1
    assert prod.inputs[1] is grads[w]
    assert w.data == 0.9  # nothing mutated
    assert new.data == pytest.approx(0.9 - 0.1 * w.grad)


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_graph_step_and_step_agree_for_every_optimizer(name):
    w = tg.Value(0.9, label="w")
    loss = (w * 1.5 - 0.2) ** 2
    grads = loss.backward(create_graph=True)
    opt = OPTIMIZERS[name]([w], lr=0.05, weight_decay=0.01)
    new_params, new_states = opt.graph_update(grads=grads)
    opt.step()
    assert new_params[0].data == pytest.approx(w.data, rel=1e-12)
    for key, value in opt.state[0].items():
        got = new_states[0][key]
        assert (got.data if isinstance(got, tg.Value) else got) == pytest.approx(value)


def test_clipping_by_value_and_by_global_norm():
    a, b = tg.Value(0.0), tg.Value(0.0)
    a.grad, b.grad = 3.0, -4.0
    assert clip_grad_norm([a, b], 1.0) == pytest.approx(5.0)
    assert (a.grad, b.grad) == pytest.approx((0.6, -0.8))
    assert clip_grad_norm([a, b], 10.0) == pytest.approx(1.0)
    assert (a.grad, b.grad) == pytest.approx((0.6, -0.8))
    a.grad, b.grad = 3.0, -0.25
    clip_grad_value([a, b], 0.5)
    assert (a.grad, b.grad) == (0.5, -0.25)


def test_optimizer_input_errors():
    p = tg.Value(1.0)
    with pytest.raises(InputError, match="lr"):
        SGD([p], lr=-1)
    with pytest.raises(InputError, match="Nesterov"):
        SGD([p], nesterov=True)
    with pytest.raises(InputError, match="non-empty"):
        Adam([])
    with pytest.raises(InputError, match="betas"):
        Adam([p], betas=0.9)


def test_graph_step_treats_a_missing_gradient_as_zero():
    used, unused = tg.Value(1.0, label="u"), tg.Value(2.0, label="n")
    grads = (used * 3.0).backward(create_graph=True)
    new = SGD([used, unused], lr=0.5).graph_step([used, unused], [grads.get(used), grads.get(unused)])
    assert [v.data for v in new] == [1.0 - 0.5 * 3.0, 2.0]
