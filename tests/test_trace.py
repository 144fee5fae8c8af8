"""Traces: what is recorded, immutability, replay with new leaves and with pins."""

import math

import pytest

import tracegrad as tg
from tracegrad import InputError, Value


def small():
    a, b = Value(2.0, label="a"), Value(3.0, label="b")
    c = a * b
    c.label = "c"
    d = c + a
    d.label = "d"
    e = d * d
    e.label = "e"
    return a, b, e


def test_trace_records_forward_and_backward_steps():
    a, b, e = small()
    t = tg.trace(e)
    assert [n.label for n in t.nodes] == ["a", "b", "c", "d", "e"]
    assert t["e"].data == 64.0
    # e = (ab + a)^2: de/da = 2d(b + 1) = 64, de/db = 2da = 32 (by hand)
    assert t["a"].grad == 64.0 and t["b"].grad == 32.0
    assert t.roots == (t.index("e"),)
    into_d = t.steps_into("d")  # d*d: two edges, each upstream 1 × local d = 8
    assert [(s.position, s.upstream, s.local, s.contribution, s.accumulated) for s in into_d] == [
        (0, 1.0, 8.0, 8.0, 8.0), (1, 1.0, 8.0, 8.0, 16.0)]
    into_a = t.steps_into("a")  # from c (local b = 3, upstream 16) and from d (local 1, upstream 16)
    assert sorted(s.contribution for s in into_a) == [16.0, 48.0]
    assert into_a[-1].accumulated == 64.0


def test_trace_is_immutable_after_parameter_updates():
    a, b, e = small()
    t = tg.trace(e)
    a.data = 100.0
    a.grad = -1.0
    a.label = "renamed"
    assert t["a"].data == 2.0 and t["a"].grad == 64.0 and t["e"].data == 64.0
    with pytest.raises(AttributeError):
        t.nodes[0].data = 5.0


def test_replay_with_new_leaves():
    a, b, e = small()
    t = tg.trace(e)
    r = t.replay(values={"a": 1.0})
    # a = 1, b = 3: c = 3, d = 4, e = 16; de/da = 2·4·4 = 32, de/db = 2·4·1 = 8
    assert r["e"].data == 16.0 and r["a"].grad == 32.0 and r["b"].grad == 8.0
    assert t["e"].data == 64.0  # original untouched


def test_replay_with_pins():
    a, b, e = small()
    t = tg.trace(e)
    r = t.replay(pins={"c": 10.0})
    # c pinned to 10: d = 12, e = 144; de/dd = 24, de/da = 24(1 + b) = 96, de/db = 24a = 48
    assert r["c"].data == 10.0 and r["d"].data == 12.0 and r["e"].data == 144.0
    assert r["a"].grad == 96.0 and r["b"].grad == 48.0


def test_replay_with_a_callable_pin_rounds_as_by_hand():
    x = Value(1.0, label="x")
    s = x.sigmoid()
    s.label = "s"
    y = s * 3
    y.label = "y"
    t = tg.trace(y)
    r = t.replay(pins={"s": lambda v: round(v, 4)})
    assert r["s"].data == 0.7311 and math.isclose(r["y"].data, 2.1933, rel_tol=1e-15)


def test_replay_keys_and_errors():
    a, b, e = small()
    t = tg.trace(e)
    assert t.replay(values={a: 1.0})["e"].data == 16.0  # a live Value as the key
    assert t.replay(values={0: 1.0})["e"].data == 16.0  # an index
    with pytest.raises(InputError, match="no node labelled 'zz'"):
        t.replay(values={"zz": 1.0})
    with pytest.raises(InputError, match="not a leaf"):
        t.replay(values={"c": 1.0})


def test_record_block_captures_nodes_and_backward():
    a = Value(0.5, label="a")
    with tg.record() as rec:
        y = (a * 4).tanh()
        y.backward()
    t = rec.trace
    assert len(rec.nodes) == 3  # the constant 4, the product, the tanh
    assert t.output.data == y.data
    assert math.isclose(t["a"].grad, 4 * (1 - math.tanh(2.0) ** 2), rel_tol=1e-14)
    assert len(t.steps) == 3  # tanh→mul, mul→a, mul→4


def test_recording_off_by_default():
    a = Value(1.0)
    with tg.record() as rec:
        pass
    b = a * 2
    b.backward()
    assert rec.nodes == [] and rec.step_log == []


def test_create_graph_trace_replays_backward_quantities():
    z = Value(0.3, label="z")
    a = z.sigmoid()
    a.label = "a"
    loss = (a - 0.5) ** 2 * 0.5
    grads = loss.backward(create_graph=True)
    dz = grads[z]
    dz.label = "dL/dz"
    t = tg.Trace([loss, dz])
    r = t.replay(values={"z": -0.4})
    s = 1 / (1 + math.exp(0.4))
    assert math.isclose(r["dL/dz"].data, (s - 0.5) * s * (1 - s), rel_tol=1e-14)
