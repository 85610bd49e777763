"""Tests of the hand-written NumPy LSTM: it must agree with torch.nn.LSTM / torch.nn.LSTMCell.

Every comparison loads torch's own randomly initialised weights into the NumPy model (via
``load_state_dict``), feeds both the same input and checks outputs, h_n and c_n.
"""

from __future__ import annotations

import math
import subprocess
import sys
import warnings

import numpy as np
import pytest
import torch

from lstm_tutorial import bench
from lstm_tutorial.numpy_lstm import (
    LSTM,
    PACKED_GATE_ORDER,
    LSTMCell,
    candidate,
    gate,
    lstm_cell_step,
    lstm_layer_forward,
    new_cell_state,
    new_hidden_state,
    packed_gate_rows,
    sigmoid,
    split_gates,
)

# float32 results agree with torch to ~1e-7 in practice; the brief allows 1e-5.
TOLERANCE = {
    np.float32: dict(atol=1e-5, rtol=1e-6),
    np.float64: dict(atol=1e-10, rtol=1e-10),
}
TORCH_DTYPE = {np.float32: torch.float32, np.float64: torch.float64}


def random_array(shape, dtype=np.float32, seed=0, scale=1.0):
    return (scale * np.random.default_rng(seed).standard_normal(shape)).astype(
        dtype
    )


def torch_lstm_and_ours(dtype=np.float32, **kwargs):
    """A torch.nn.LSTM with its default random weights, and our LSTM loaded with them."""
    torch.manual_seed(0)
    reference = torch.nn.LSTM(**kwargs).to(TORCH_DTYPE[dtype])
    ours = LSTM(**kwargs, dtype=dtype, seed=123)
    ours.load_state_dict(reference.state_dict())
    return reference, ours


def run_torch(module, x, hx=None):
    with torch.no_grad():
        x_t = torch.from_numpy(x)
        hx_t = None if hx is None else tuple(torch.from_numpy(s) for s in hx)
        output, (h_n, c_n) = module(x_t, hx_t)
    return output.numpy(), h_n.numpy(), c_n.numpy()


def forward_all(model, x, hx=None):
    """(output, h_n, c_n) of our model, in the same flat order as ``run_torch``."""
    output, (h_n, c_n) = model(x, hx)
    return output, h_n, c_n


def assert_close(actual, expected, dtype):
    assert actual.shape == expected.shape
    assert actual.dtype == np.dtype(dtype)
    np.testing.assert_allclose(actual, expected, **TOLERANCE[dtype])


# --------------------------------------------------------------------------------------
# The small teaching functions
# --------------------------------------------------------------------------------------


def test_sigmoid_matches_logistic_formula():
    z = np.linspace(-20, 20, 401)
    np.testing.assert_allclose(
        sigmoid(z), 1.0 / (1.0 + np.exp(-z)), rtol=1e-12, atol=1e-15
    )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sigmoid_is_stable_for_large_inputs(dtype):
    finfo = np.finfo(dtype)
    z = np.array(
        [-finfo.max, -1e4, -100.0, 0.0, 100.0, 1e4, finfo.max], dtype=dtype
    )
    with warnings.catch_warnings(), np.errstate(all="raise"):
        warnings.simplefilter("error")
        s = sigmoid(z)
    assert s.dtype == np.dtype(dtype)
    assert np.all(np.isfinite(s))
    np.testing.assert_array_equal(
        s[[0, 1, 3, 5, 6]], np.array([0.0, 0.0, 0.5, 1.0, 1.0], dtype)
    )
    assert np.all((s >= 0) & (s <= 1))


def test_split_gates_uses_pytorch_order_on_last_axis():
    z = np.arange(2 * 12).reshape(2, 12)
    i, f, g, o = split_gates(z)
    np.testing.assert_array_equal(i, z[:, 0:3])
    np.testing.assert_array_equal(f, z[:, 3:6])
    np.testing.assert_array_equal(g, z[:, 6:9])
    np.testing.assert_array_equal(o, z[:, 9:12])


def test_split_gates_rejects_last_axis_not_a_multiple_of_four():
    with pytest.raises(ValueError, match=r"multiple of 4"):
        split_gates(np.zeros((2, 10)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_teaching_functions_agree_with_fused_cell_step(dtype):
    B, D, H = 3, 5, 4
    x, h, c = (
        random_array((B, D), dtype, 1),
        random_array((B, H), dtype, 2),
        random_array((B, H), dtype, 3),
    )
    weight_ih, weight_hh = (
        random_array((4 * H, D), dtype, 4),
        random_array((4 * H, H), dtype, 5),
    )
    bias_ih, bias_hh = (
        random_array(4 * H, dtype, 6),
        random_array(4 * H, dtype, 7),
    )

    # One gate at a time, each with its own (W, U, b) taken from torch's row blocks i, f, g, o.
    W = split_gates(
        weight_ih.T
    )  # each (D, H) -> transpose back to (H, D) below
    U = split_gates(weight_hh.T)
    b = split_gates(bias_ih + bias_hh)
    i = gate(x, h, W[0].T, U[0].T, b[0])
    f = gate(x, h, W[1].T, U[1].T, b[1])
    g = candidate(x, h, W[2].T, U[2].T, b[2])
    o = gate(x, h, W[3].T, U[3].T, b[3])
    c_new = new_cell_state(c, f, i, g)
    h_new = new_hidden_state(o, c_new)

    h_fused, c_fused, gates = lstm_cell_step(
        x, h, c, weight_ih, weight_hh, bias_ih, bias_hh
    )
    tol = TOLERANCE[dtype]
    np.testing.assert_allclose(h_fused, h_new, **tol)
    np.testing.assert_allclose(c_fused, c_new, **tol)
    np.testing.assert_allclose(
        gates, np.concatenate([i, f, g, o], axis=-1), **tol
    )
    assert h_fused.dtype == c_fused.dtype == gates.dtype == np.dtype(dtype)


def test_cell_state_and_hidden_state_formulas():
    c_prev, f, i, g, o = (
        np.array([0.5, -2.0]) * k for k in (1, 0.3, 0.7, 0.9, 0.2)
    )
    np.testing.assert_allclose(
        new_cell_state(c_prev, f, i, g), f * c_prev + i * g
    )
    np.testing.assert_allclose(new_hidden_state(o, c_prev), o * np.tanh(c_prev))


def test_new_cell_state_and_hidden_state_can_write_into_a_buffer():
    c_prev, f, i, g, o = (random_array(4, np.float64, s) for s in range(5))
    out = np.empty(4)
    assert new_cell_state(c_prev, f, i, g, out=out) is out
    np.testing.assert_allclose(out, f * c_prev + i * g)
    out2 = np.empty(4)
    assert new_hidden_state(o, out, out=out2) is out2
    np.testing.assert_allclose(out2, o * np.tanh(out))


def test_lstm_cell_step_without_bias_matches_zero_bias():
    x, h, c = (
        random_array((2, 3)),
        random_array((2, 4), seed=1),
        random_array((2, 4), seed=2),
    )
    w_ih, w_hh = random_array((16, 3), seed=3), random_array((16, 4), seed=4)
    zeros = np.zeros(16, np.float32)
    no_bias = lstm_cell_step(x, h, c, w_ih, w_hh)
    zero_bias = lstm_cell_step(x, h, c, w_ih, w_hh, zeros, zeros)
    for a, b in zip(no_bias, zero_bias, strict=True):
        np.testing.assert_allclose(a, b, atol=1e-7)


# --------------------------------------------------------------------------------------
# LSTMCell against torch.nn.LSTMCell
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("batch", [None, 1, 5])  # None: unbatched input (D,)
@pytest.mark.parametrize("given_state", [False, True])
def test_cell_matches_torch_lstm_cell(dtype, bias, batch, given_state):
    D, H = 6, 7
    torch.manual_seed(0)
    reference = torch.nn.LSTMCell(D, H, bias=bias).to(TORCH_DTYPE[dtype])
    cell = LSTMCell(D, H, bias=bias, dtype=dtype, seed=1)
    cell.load_state_dict(reference.state_dict())
    lead = () if batch is None else (batch,)
    x = random_array((*lead, D), dtype, seed=10)
    hx = (
        random_array((*lead, H), dtype, 11),
        random_array((*lead, H), dtype, 12),
    )
    with torch.no_grad():
        expected = reference(
            torch.from_numpy(x),
            tuple(map(torch.from_numpy, hx)) if given_state else None,
        )
    h, c = cell(x, hx if given_state else None)
    assert_close(h, expected[0].numpy(), dtype)
    assert_close(c, expected[1].numpy(), dtype)


def test_cell_state_dict_keys_and_shapes_equal_torch():
    reference = torch.nn.LSTMCell(3, 5)
    ours = LSTMCell(3, 5, seed=0).state_dict()
    assert list(ours) == list(reference.state_dict())
    assert [v.shape for v in ours.values()] == [
        tuple(v.shape) for v in reference.state_dict().values()
    ]


def test_cell_rejects_input_of_wrong_feature_size_and_state_of_wrong_shape():
    cell = LSTMCell(3, 4, seed=0)
    with pytest.raises(ValueError, match=r"input_size=3"):
        cell(np.zeros((2, 5), np.float32))
    with pytest.raises(ValueError, match=r"\(B, D\) or unbatched \(D,\)"):
        cell(np.zeros((2, 2, 3), np.float32))
    with pytest.raises(ValueError, match=r"h0.*\(2, 4\)"):
        cell(np.zeros((2, 3), np.float32), (np.zeros((3, 4), np.float32),) * 2)
    with pytest.raises(ValueError, match=r"pair \(h0, c0\)"):
        cell(np.zeros((2, 3), np.float32), np.zeros((2, 4), np.float32))
    with pytest.raises(ValueError, match=r"float32"):
        cell(np.zeros((2, 3), np.float64))


# --------------------------------------------------------------------------------------
# LSTM against torch.nn.LSTM
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("num_layers", [1, 2, 3])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize(
    ("input_size", "hidden_size", "T", "B"),
    [(3, 5, 7, 4), (8, 16, 5, 1), (64, 128, 20, 1)],
)
def test_forward_matches_torch(
    dtype, num_layers, batch_first, input_size, hidden_size, T, B
):
    reference, ours = torch_lstm_and_ours(
        dtype,
        input_size=input_size,
        hidden_size=hidden_size,
        num_layers=num_layers,
        batch_first=batch_first,
    )
    shape = (B, T, input_size) if batch_first else (T, B, input_size)
    x = random_array(shape, dtype, seed=num_layers)
    output, (h_n, c_n) = ours(x)
    expected = run_torch(reference, x)
    for actual, wanted in zip((output, h_n, c_n), expected, strict=True):
        assert_close(actual, wanted, dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_forward_matches_torch_for_stacked_batch_first_with_given_state(dtype):
    reference, ours = torch_lstm_and_ours(
        dtype, input_size=4, hidden_size=6, num_layers=3, batch_first=True
    )
    x = random_array((2, 9, 4), dtype, seed=1)
    hx = (
        random_array((3, 2, 6), dtype, 2),
        random_array((3, 2, 6), dtype, 3, scale=2.0),
    )
    output, (h_n, c_n) = ours(x, hx)
    for actual, wanted in zip(
        (output, h_n, c_n), run_torch(reference, x, hx), strict=True
    ):
        assert_close(actual, wanted, dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("num_layers", [1, 2])
def test_forward_matches_torch_without_bias(dtype, num_layers):
    reference, ours = torch_lstm_and_ours(
        dtype, input_size=5, hidden_size=3, num_layers=num_layers, bias=False
    )
    assert list(ours.state_dict()) == list(reference.state_dict())
    x = random_array((6, 2, 5), dtype)
    for actual, wanted in zip(
        forward_all(ours, x), run_torch(reference, x), strict=True
    ):
        assert_close(actual, wanted, dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("given_state", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
def test_forward_matches_torch_for_unbatched_input(
    dtype, given_state, batch_first
):
    reference, ours = torch_lstm_and_ours(
        dtype,
        input_size=3,
        hidden_size=4,
        num_layers=2,
        batch_first=batch_first,
    )
    x = random_array(
        (7, 3), dtype
    )  # (T, D): batch_first does not apply to unbatched input
    hx = (
        (random_array((2, 4), dtype, 1), random_array((2, 4), dtype, 2))
        if given_state
        else None
    )
    output, (h_n, c_n) = ours(x, hx)
    assert output.shape == (7, 4) and h_n.shape == c_n.shape == (2, 4)
    for actual, wanted in zip(
        (output, h_n, c_n), run_torch(reference, x, hx), strict=True
    ):
        assert_close(actual, wanted, dtype)


def test_forward_with_hidden_size_larger_than_input_and_long_sequence():
    reference, ours = torch_lstm_and_ours(
        input_size=2, hidden_size=32, num_layers=2
    )
    x = random_array((60, 3, 2), scale=3.0)
    for actual, wanted in zip(
        forward_all(ours, x), run_torch(reference, x), strict=True
    ):
        assert_close(actual, wanted, np.float32)


def test_forward_does_not_modify_input_or_earlier_outputs():
    _, ours = torch_lstm_and_ours(input_size=3, hidden_size=4, num_layers=2)
    x = random_array((5, 2, 3))
    x_before = x.copy()
    first, (h_first, _) = ours(x)
    first_copy, h_first_copy = first.copy(), h_first.copy()
    ours(random_array((5, 2, 3), seed=9))
    np.testing.assert_array_equal(x, x_before)
    np.testing.assert_array_equal(first, first_copy)
    np.testing.assert_array_equal(h_first, h_first_copy)


def test_model_mirrors_torch_attribute_names_and_repr():
    ours = LSTM(3, 4, num_layers=2, batch_first=True, seed=0)
    assert ours.weight_ih_l1.shape == (16, 4)
    assert ours.bias_hh_l0.shape == (16,)
    assert (
        ours.input_size == 3 and ours.hidden_size == 4 and ours.num_layers == 2
    )
    assert repr(ours) == "LSTM(3, 4, num_layers=2, batch_first=True)"
    names = [name for name, _ in ours.named_parameters()]
    assert names == list(torch.nn.LSTM(3, 4, num_layers=2).state_dict())
    assert all(
        p is getattr(ours, n)
        for n, p in zip(names, ours.parameters(), strict=True)
    )


# --------------------------------------------------------------------------------------
# The plain layer: lstm_cell_step T times, against torch.nn.LSTM
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize(
    ("T", "B", "D", "H"), [(1, 1, 1, 1), (7, 1, 3, 5), (6, 4, 5, 3)]
)
def test_layer_forward_matches_a_one_layer_torch_lstm(dtype, bias, T, B, D, H):
    torch.manual_seed(0)
    reference = torch.nn.LSTM(D, H, bias=bias).to(TORCH_DTYPE[dtype])
    weights = [p.detach().numpy() for p in reference.parameters()]
    if not bias:
        weights += [None, None]
    x = random_array((T, B, D), dtype, seed=1)
    h0, c0 = (
        random_array((B, H), dtype, seed=2),
        random_array((B, H), dtype, seed=3),
    )
    cache = lstm_layer_forward(x, h0, c0, *weights)
    output, h_n, c_n = run_torch(reference, x, (h0[None], c0[None]))
    assert_close(cache.h, output, dtype)
    assert_close(cache.h[-1], h_n[0], dtype)
    assert_close(cache.c[-1], c_n[0], dtype)
    assert cache.gates.shape == (4, T, B, H) and cache.c.shape == (T, B, H)
    assert cache.x is x and cache.h0 is h0 and cache.c0 is c0


def test_layer_forward_is_lstm_cell_step_applied_T_times_exactly():
    model = LSTM(3, 4, seed=0)
    params = model.layer_parameters(0)
    x = random_array((5, 2, 3))
    h, c = random_array((2, 4), seed=1), random_array((2, 4), seed=2)
    cache = lstm_layer_forward(x, h, c, *params)
    for t in range(5):  # cache index t holds step t + 1
        h, c, gates = lstm_cell_step(x[t], h, c, *params)
        i, f, g, o = split_gates(gates)
        np.testing.assert_array_equal(cache.h[t], h)
        np.testing.assert_array_equal(cache.c[t], c)
        np.testing.assert_array_equal(cache.gates[:, t], np.stack([i, f, o, g]))


def _python(code):
    """Run ``code`` in a fresh interpreter; return the completed process."""
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_importing_the_forward_modules_does_not_import_bptt():
    # The backward pass builds on the forward pass, never the other way round.
    for module in (
        "lstm_tutorial",
        "lstm_tutorial.numpy_lstm",
        "lstm_tutorial.numpy_lstm_fast",
    ):
        done = _python(
            f"import {module}, sys; assert 'lstm_tutorial.bptt' not in sys.modules"
        )
        assert done.returncode == 0, (
            f"importing {module} imports bptt: {done.stderr}"
        )


def test_backward_without_bptt_says_where_it_lives():
    done = _python(
        "import numpy as np\n"
        "from lstm_tutorial.numpy_lstm import LSTM\n"
        "model = LSTM(2, 3)\n"
        "output, _ = model(np.zeros((4, 1, 2), np.float32))\n"
        "model.backward(np.ones_like(output))\n"
    )
    assert done.returncode != 0
    assert (
        "RuntimeError" in done.stderr
        and "import lstm_tutorial.bptt" in done.stderr
    )


# --------------------------------------------------------------------------------------
# The forward cache that backpropagation through time will read
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("B", [1, 3])
def test_forward_cache_holds_gates_cell_states_and_inputs_per_layer(B):
    T, D, H = 6, 4, 5
    ours = LSTM(D, H, num_layers=2, batch_first=True, seed=0)
    x = random_array((B, T, D))
    hx = (random_array((2, B, H), seed=1), random_array((2, B, H), seed=2))
    output, (h_n, c_n) = ours(x, hx)
    cache = ours._cache
    assert cache.batch_first and not cache.unbatched
    assert len(cache.layers) == 2
    assert PACKED_GATE_ORDER == ("i", "f", "o", "g")
    np.testing.assert_array_equal(cache.layers[0].x, x.swapaxes(0, 1))
    np.testing.assert_array_equal(cache.layers[1].x, cache.layers[0].h)
    np.testing.assert_array_equal(cache.layers[1].h, output.swapaxes(0, 1))
    for k, layer in enumerate(cache.layers):
        assert layer.gates.shape == (4, T, B, H)
        assert layer.c.shape == layer.h.shape == (T, B, H)
        np.testing.assert_array_equal(layer.h0, hx[0][k])
        np.testing.assert_array_equal(layer.c0, hx[1][k])
        np.testing.assert_array_equal(layer.h[-1], h_n[k])
        np.testing.assert_array_equal(layer.c[-1], c_n[k])
        # Every cached step agrees with the readable single step, gate by gate.
        weights = [
            getattr(ours, f"{name}_l{k}") for name in ("weight_ih", "weight_hh")
        ]
        biases = [
            getattr(ours, f"{name}_l{k}") for name in ("bias_ih", "bias_hh")
        ]
        h_prev, c_prev = layer.h0, layer.c0
        for t in range(T):
            h_t, c_t, gates = lstm_cell_step(
                layer.x[t], h_prev, c_prev, *weights, *biases
            )
            i, f, g, o = split_gates(gates)
            np.testing.assert_allclose(
                layer.gates[:, t], np.stack([i, f, o, g]), atol=1e-6
            )
            np.testing.assert_allclose(layer.c[t], c_t, atol=1e-6)
            np.testing.assert_allclose(layer.h[t], h_t, atol=1e-6)
            # The cached gates are the step's own: the same numbers exactly.
            i, f, o, g = layer.gates[:, t]
            np.testing.assert_array_equal(
                layer.c[t], new_cell_state(c_prev, f, i, g)
            )
            np.testing.assert_array_equal(
                layer.h[t], new_hidden_state(o, layer.c[t])
            )
            h_prev, c_prev = layer.h[t], layer.c[t]


def test_packed_gate_rows_put_the_sigmoid_gates_first():
    # PyTorch's blocks i, f, g, o of H = 2 rows each, reordered to i, f, o, g
    rows = packed_gate_rows(2)
    np.testing.assert_array_equal(rows, [0, 1, 2, 3, 6, 7, 4, 5])
    assert PACKED_GATE_ORDER == ("i", "f", "o", "g")


def test_forward_cache_is_batched_time_major_for_unbatched_input():
    ours = LSTM(2, 3, seed=0)
    ours(random_array((4, 2)))
    assert ours._cache.unbatched
    layer = ours._cache.layers[0]
    assert layer.x.shape == (4, 1, 2) and layer.gates.shape == (4, 4, 1, 3)
    assert layer.h0.shape == layer.c0.shape == (1, 3)
    np.testing.assert_array_equal(layer.h0, 0.0)


@pytest.mark.parametrize("B", [1, 4])
def test_layer_forward_accepts_row_major_weights(B):
    model = LSTM(3, 5, seed=0)
    weights = [np.ascontiguousarray(p) for p in model.layer_parameters(0)]
    x = random_array((7, B, 3))
    h0, c0 = random_array((B, 5), seed=1), random_array((B, 5), seed=2)
    layer = lstm_layer_forward(x, h0, c0, *weights)
    output, (h_n, c_n) = model(x, (h0[None], c0[None]))
    np.testing.assert_allclose(layer.h, output, atol=1e-6)
    np.testing.assert_allclose(layer.c[-1], c_n[0], atol=1e-6)


# --------------------------------------------------------------------------------------
# Parameters: initialisation and state dicts
# --------------------------------------------------------------------------------------


def test_state_dict_keys_and_shapes_equal_torch():
    reference = torch.nn.LSTM(3, 5, num_layers=3)
    ours = LSTM(3, 5, num_layers=3, seed=0)
    theirs = reference.state_dict()
    assert list(ours.state_dict()) == list(theirs)
    for key, value in ours.state_dict().items():
        assert value.shape == tuple(theirs[key].shape), key
        assert value.dtype == np.float32


def test_state_dict_round_trips_through_torch():
    ours = LSTM(3, 5, num_layers=2, seed=0)
    reference = torch.nn.LSTM(3, 5, num_layers=2)
    reference.load_state_dict(
        {k: torch.from_numpy(v) for k, v in ours.state_dict().items()}
    )
    copy = LSTM(3, 5, num_layers=2, seed=99)
    copy.load_state_dict(reference.state_dict())
    for key, value in ours.state_dict().items():
        np.testing.assert_array_equal(copy.state_dict()[key], value)


def test_state_dict_returns_copies_and_load_keeps_parameter_arrays():
    ours = LSTM(3, 5, seed=0)
    weight = ours.weight_ih_l0
    state = ours.state_dict()
    state["weight_ih_l0"][:] = 7.0
    assert not np.any(ours.weight_ih_l0 == 7.0)
    ours.load_state_dict(state)
    assert ours.weight_ih_l0 is weight  # updated in place
    np.testing.assert_array_equal(ours.weight_ih_l0, 7.0)


def test_load_state_dict_casts_to_the_model_dtype():
    ours = LSTM(2, 3, dtype=np.float32, seed=0)
    state = {
        k: v.astype(np.float64)
        for k, v in LSTM(2, 3, dtype=np.float64, seed=1).state_dict().items()
    }
    ours.load_state_dict(state)
    assert all(p.dtype == np.float32 for p in ours.parameters())
    np.testing.assert_allclose(ours.bias_hh_l0, state["bias_hh_l0"], rtol=1e-6)

    wide = LSTM(2, 3, dtype=np.float64, seed=0)
    wide.load_state_dict(torch.nn.LSTM(2, 3).state_dict())  # float32 tensors
    assert all(p.dtype == np.float64 for p in wide.parameters())


def test_load_state_dict_names_missing_extra_and_misshaped_keys():
    ours = LSTM(2, 3, num_layers=2, seed=0)
    state = ours.state_dict()
    before = ours.state_dict()

    missing = dict(state)
    del missing["weight_hh_l1"]
    with pytest.raises(ValueError, match=r"missing.*'weight_hh_l1'.*\(12, 3\)"):
        ours.load_state_dict(missing)

    extra = dict(state, weight_ih_l2=np.zeros((12, 3), np.float32))
    with pytest.raises(ValueError, match=r"unexpected.*'weight_ih_l2'"):
        ours.load_state_dict(extra)

    misshaped = dict(state, bias_ih_l0=np.zeros(13, np.float32))
    with pytest.raises(ValueError, match=r"'bias_ih_l0'.*\(13,\).*\(12,\)"):
        ours.load_state_dict(misshaped)

    transposed = dict(state, weight_ih_l0=state["weight_ih_l0"].T)
    with pytest.raises(ValueError, match=r"'weight_ih_l0'.*\(12, 2\)"):
        ours.load_state_dict(transposed)

    integers = dict(state, bias_hh_l1=np.zeros(12, np.int64))
    with pytest.raises(ValueError, match=r"'bias_hh_l1'.*floating"):
        ours.load_state_dict(integers)

    # A failed load leaves the model untouched.
    for key, value in before.items():
        np.testing.assert_array_equal(getattr(ours, key), value)


def test_seeded_initialisation_is_deterministic():
    a = LSTM(4, 6, num_layers=2, seed=7).state_dict()
    b = LSTM(4, 6, num_layers=2, seed=7).state_dict()
    c = LSTM(4, 6, num_layers=2, seed=8).state_dict()
    from_rng = LSTM(
        4, 6, num_layers=2, rng=np.random.default_rng(7)
    ).state_dict()
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])
        np.testing.assert_array_equal(a[key], from_rng[key])
        assert not np.array_equal(a[key], c[key])


@pytest.mark.parametrize("hidden_size", [3, 16, 100])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_initialisation_is_uniform_within_one_over_sqrt_hidden_size(
    hidden_size, dtype
):
    bound = 1.0 / math.sqrt(hidden_size)
    model = LSTM(50, hidden_size, num_layers=2, dtype=dtype, seed=0)
    values = np.concatenate([p.ravel() for p in model.parameters()])
    assert all(p.dtype == np.dtype(dtype) for p in model.parameters())
    assert np.all(
        np.abs(values.astype(np.float64))
        <= np.nextafter(bound, 1.0, dtype=dtype)
    )
    # Uniform on [-bound, bound]: it reaches near both ends and has variance bound**2 / 3.
    assert values.min() < -0.95 * bound and values.max() > 0.95 * bound
    assert values.var() == pytest.approx(bound**2 / 3, rel=0.1)


def test_cell_initialisation_is_seeded_and_bounded():
    a, b = LSTMCell(3, 4, seed=1), LSTMCell(3, 4, seed=1)
    for (name, p), q in zip(a.named_parameters(), b.parameters(), strict=True):
        np.testing.assert_array_equal(p, q, err_msg=name)
        assert np.all(np.abs(p) <= 0.5)


# --------------------------------------------------------------------------------------
# Bad input is refused with a message that names the expectation
# --------------------------------------------------------------------------------------


@pytest.fixture
def model():
    return LSTM(3, 4, num_layers=2, seed=0)


def test_forward_rejects_input_of_wrong_rank(model):
    with pytest.raises(
        ValueError, match=r"\(T, B, D\).*\(T, D\).*got shape \(3,\)"
    ):
        model(np.zeros(3, np.float32))
    with pytest.raises(ValueError, match=r"\(B, T, D\)"):
        LSTM(3, 4, batch_first=True, seed=0)(np.zeros((1, 2, 3, 3), np.float32))


def test_forward_rejects_input_of_wrong_feature_size(model):
    with pytest.raises(ValueError, match=r"input_size=3.*got 5"):
        model(np.zeros((2, 1, 5), np.float32))


def test_forward_rejects_empty_sequence_or_batch(model):
    with pytest.raises(ValueError, match=r"at least one time step"):
        model(np.zeros((0, 2, 3), np.float32))
    with pytest.raises(ValueError, match=r"at least one"):
        model(np.zeros((2, 0, 3), np.float32))


def test_forward_rejects_input_of_another_float_dtype_instead_of_casting(model):
    with pytest.raises(ValueError, match=r"float64.*model.*float32"):
        model(np.zeros((2, 1, 3), np.float64))
    wide = LSTM(3, 4, dtype=np.float64, seed=0)
    with pytest.raises(ValueError, match=r"float32.*model.*float64"):
        wide(np.zeros((2, 1, 3), np.float32))


@pytest.mark.parametrize(
    "bad", [np.zeros((2, 1, 3), np.int64), np.zeros((2, 1, 3), bool)]
)
def test_forward_rejects_non_float_input(model, bad):
    with pytest.raises(ValueError, match=r"floating-point.*float32"):
        model(bad)


def test_forward_rejects_non_array_input(model):
    with pytest.raises(ValueError, match=r"NumPy array"):
        model([[[0.0, 0.0, 0.0]]])


def test_forward_rejects_hx_that_is_not_a_pair(model):
    h0 = np.zeros((2, 1, 4), np.float32)
    x = np.zeros((5, 1, 3), np.float32)
    with pytest.raises(ValueError, match=r"pair \(h0, c0\)"):
        model(x, h0)
    with pytest.raises(ValueError, match=r"pair \(h0, c0\)"):
        model(x, (h0,))
    with pytest.raises(ValueError, match=r"pair \(h0, c0\)"):
        model(x, (h0, h0, h0))


@pytest.mark.parametrize(
    ("shape", "expected"),
    [
        ((2, 3, 4), r"\(2, 1, 4\)"),  # batch mismatch
        ((1, 1, 4), r"\(2, 1, 4\)"),  # wrong number of layers
        ((2, 1, 5), r"\(2, 1, 4\)"),  # wrong hidden size
        ((2, 4), r"\(2, 1, 4\)"),  # unbatched state for batched input
    ],
)
def test_forward_rejects_hx_of_wrong_shape(model, shape, expected):
    x = np.zeros((5, 1, 3), np.float32)
    good = np.zeros((2, 1, 4), np.float32)
    bad = np.zeros(shape, np.float32)
    with pytest.raises(ValueError, match=r"h0.*" + expected):
        model(x, (bad, good))
    with pytest.raises(ValueError, match=r"c0.*" + expected):
        model(x, (good, bad))


def test_forward_rejects_batched_state_for_unbatched_input(model):
    x = np.zeros((5, 3), np.float32)
    state = np.zeros((2, 1, 4), np.float32)
    with pytest.raises(ValueError, match=r"h0.*\(2, 4\).*unbatched"):
        model(x, (state, state))


def test_forward_rejects_hx_of_wrong_dtype(model):
    x = np.zeros((5, 1, 3), np.float32)
    state = np.zeros((2, 1, 4), np.float64)
    with pytest.raises(ValueError, match=r"h0.*float32"):
        model(x, (state, state.astype(np.float32)))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            dict(input_size=0, hidden_size=4),
            r"input_size must be an integer >= 1",
        ),
        (
            dict(input_size=3, hidden_size=-1),
            r"hidden_size must be an integer >= 1",
        ),
        (
            dict(input_size=3.0, hidden_size=4),
            r"input_size must be an integer >= 1",
        ),
        (
            dict(input_size=True, hidden_size=4),
            r"input_size must be an integer >= 1",
        ),
        (
            dict(input_size=3, hidden_size=4, num_layers=0),
            r"num_layers must be an integer >= 1",
        ),
        (dict(input_size=3, hidden_size=4, bias=1), r"bias.*True or False"),
        (
            dict(input_size=3, hidden_size=4, batch_first="yes"),
            r"batch_first.*True or False",
        ),
        (
            dict(input_size=3, hidden_size=4, dtype=np.int32),
            r"dtype must be np.float32 or np.float64",
        ),
        (
            dict(input_size=3, hidden_size=4, dtype=np.float16),
            r"dtype must be np.float32 or np.float64",
        ),
        (
            dict(
                input_size=3, hidden_size=4, seed=1, rng=np.random.default_rng()
            ),
            r"not both",
        ),
        (dict(input_size=3, hidden_size=4, rng=1), r"rng.*Generator"),
    ],
)
def test_constructor_rejects_invalid_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        LSTM(**kwargs)


def test_constructor_does_not_accept_unsupported_torch_options():
    with pytest.raises(TypeError):
        LSTM(3, 4, bidirectional=True)  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        LSTM(3, 4, dropout=0.5)  # type: ignore[call-arg]


def test_cell_constructor_rejects_invalid_arguments():
    with pytest.raises(
        ValueError, match=r"hidden_size must be an integer >= 1"
    ):
        LSTMCell(3, 0)
    with pytest.raises(ValueError, match=r"dtype"):
        LSTMCell(3, 4, dtype=np.int64)


# --------------------------------------------------------------------------------------
# The benchmark module runs (no speed is asserted here)
# --------------------------------------------------------------------------------------


def test_benchmark_runs_on_a_tiny_config_and_reports_ratios():
    results = bench.benchmark(
        configs=[dict(T=3, B=2, D=4, H=5, target=2.0)], repeats=1
    )
    assert len(results) == 1
    row = results[0]
    for key in (
        "numpy_s",
        "torch_s",
        "torch_aten_s",
        "naive_s",
        "ratio",
        "naive_ratio",
    ):
        assert row[key] > 0, key
    assert row["ratio"] == pytest.approx(row["numpy_s"] / row["torch_s"])
    assert row["aten_ratio"] == pytest.approx(
        row["numpy_s"] / row["torch_aten_s"]
    )
    assert list(row["ablation"]) == list(
        bench.ABLATION
    )  # naive, then one trick each
    assert row["ablation"][bench.TUNED] == row["numpy_s"]
    text = bench.format_table(results)
    assert "ratio" in text and "T=3" in text.replace(" ", "")
    assert "no oneDNN" in text


def test_benchmark_leaves_torchs_onednn_switch_as_it_found_it():
    import torch

    before = torch.backends.mkldnn.enabled
    bench.benchmark(
        configs=[dict(T=2, B=1, D=3, H=4)], repeats=1, ablation=False
    )
    assert torch.backends.mkldnn.enabled == before


def test_torch_without_onednn_gives_the_same_numbers():
    # The benchmark's "no oneDNN" column times the same layer on PyTorch's own loop.
    import torch

    torch.manual_seed(0)
    reference = torch.nn.LSTM(4, 6).eval()
    x = torch.randn(7, 3, 4)
    with torch.no_grad():
        expected = reference(x)[0]
        with bench.onednn(False):
            assert not torch.backends.mkldnn.enabled
            got = reference(x)[0]
    torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-5)


def test_environment_names_the_kernels_in_use():
    info = bench.environment()
    for key in ("CPU", "OpenBLAS kernels", "torch CPU kernels", "torch LSTM"):
        assert info[key], key


@pytest.mark.parametrize(
    ("core", "flags", "hint"),
    [
        ("Haswell", {"avx2", "avx512f"}, True),
        ("Zen", {"avx2", "avx512f"}, True),
        ("SkylakeX", {"avx2", "avx512f"}, False),
        ("Haswell", {"avx2"}, False),
        ("unknown", {"avx512f"}, False),
    ],
)
def test_hint_when_openblas_leaves_avx512_unused(core, flags, hint):
    text = bench.coretype_hint(core, flags)
    assert (text is not None) == hint
    if hint:
        assert "OPENBLAS_CORETYPE=SkylakeX" in text and "chose" in text


def test_hint_names_the_environment_variable_that_forced_the_kernels():
    text = bench.coretype_hint("Haswell", {"avx512f"}, "Haswell")
    assert "OPENBLAS_CORETYPE=Haswell in the environment" in text
    assert "unset it" in text


def test_naive_forward_baseline_matches_the_model():
    model = LSTM(4, 5, seed=0)
    x = random_array((6, 2, 4))
    np.testing.assert_allclose(
        bench.naive_forward(model, x), model(x)[0], atol=1e-6
    )


# --------------------------------------------------------------------------------------
# Bad input: what the bad-input harness (test_bad_input_numpy.py) cannot express
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "dtype", ["float32", "float64", torch.float32, torch.float64, None]
)
@pytest.mark.parametrize("cls", [LSTM, LSTMCell])
def test_dtype_given_as_a_string_or_a_torch_dtype_is_refused_naming_dtype(
    cls, dtype
):
    with pytest.raises(
        TypeError, match=r"dtype must be np.float32 or np.float64"
    ):
        cls(3, 4, dtype=dtype)


def test_cell_refuses_state_of_another_batch_size_or_dtype_instead_of_broadcasting():
    cell = LSTMCell(3, 4, seed=0)
    x = np.zeros((2, 3), np.float32)
    one_row = np.zeros(
        (1, 4), np.float32
    )  # would broadcast against a batch of 2
    with pytest.raises(
        ValueError, match=r"h0 of shape \(2, 4\).*batch = 2 as in x"
    ):
        cell(x, (one_row, np.zeros((2, 4), np.float32)))
    with pytest.raises(
        TypeError, match=r"c0 has dtype float64 but the model is float32"
    ):
        cell(x, (np.zeros((2, 4), np.float32), np.zeros((2, 4))))


def test_forward_refuses_state_of_another_batch_size_instead_of_broadcasting(
    model,
):
    x = np.zeros((5, 3, 3), np.float32)
    one_row = np.zeros((2, 1, 4), np.float32)
    with pytest.raises(
        ValueError, match=r"h0 of shape \(2, 3, 4\).*batch = 3 as in x"
    ):
        model(x, (one_row, np.zeros((2, 3, 4), np.float32)))


def test_a_refused_forward_call_keeps_the_previous_cache(model):
    x = np.ones((5, 2, 3), np.float32)
    output, _ = model(x)
    cache = model._cache
    with pytest.raises(ValueError, match="x must hold finite numbers"):
        model(np.full((5, 2, 3), np.nan, np.float32))
    assert model._cache is cache
    np.testing.assert_array_equal(model(x)[0], output)


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (np.nan, r"state_dict\['bias_hh_l1'\] must hold finite numbers"),
        (np.inf, r"state_dict\['bias_hh_l1'\] must hold finite numbers"),
        (
            1e300,
            r"state_dict\['bias_hh_l1'\] holds values too large .* float32",
        ),
    ],
)
def test_load_state_dict_refuses_non_finite_or_too_large_values_and_changes_nothing(
    bad, message
):
    model = LSTM(2, 3, num_layers=2, seed=0)
    before = model.state_dict()
    state = LSTM(2, 3, num_layers=2, seed=1).state_dict()
    state["bias_hh_l1"] = np.full(12, bad)
    with pytest.raises(ValueError, match=message):
        model.load_state_dict(state)
    for name, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[name])


def test_load_state_dict_accepts_tensors_of_any_float_dtype_even_bfloat16():
    torch.manual_seed(0)
    reference = torch.nn.LSTM(2, 3).to(torch.bfloat16)
    model = LSTM(2, 3, seed=0)
    model.load_state_dict(reference.state_dict())
    for name, value in reference.state_dict().items():
        np.testing.assert_array_equal(
            getattr(model, name), value.float().numpy()
        )


def test_load_state_dict_refuses_lists_and_integer_tensors_naming_the_entry():
    model = LSTM(2, 3, seed=0)
    state = model.state_dict()
    with pytest.raises(
        TypeError, match=r"state_dict\['weight_ih_l0'\] must be a NumPy array"
    ):
        model.load_state_dict(
            state | {"weight_ih_l0": state["weight_ih_l0"].tolist()}
        )
    with pytest.raises(
        TypeError, match=r"state_dict\['bias_ih_l0'\] must hold floating-point"
    ):
        model.load_state_dict(
            state | {"bias_ih_l0": torch.zeros(12, dtype=torch.int64)}
        )


def test_layer_forward_refuses_arguments_whose_sizes_do_not_fit_together():
    W, U, b_ih, b_hh = LSTM(3, 4, seed=0).layer_parameters(0)
    x = np.zeros((5, 2, 3), np.float32)
    state = np.zeros((2, 4), np.float32)
    with pytest.raises(
        ValueError, match=r"h0 must have shape \(B, H\) = \(2, 4\)"
    ):
        lstm_layer_forward(x, state[:1], state, W, U, b_ih, b_hh)
    with pytest.raises(
        ValueError, match=r"weight_ih must have shape \(4H, D=2\)"
    ):
        lstm_layer_forward(x[..., :2], state, state, W, U, b_ih, b_hh)
    with pytest.raises(
        ValueError, match=r"bias_ih and bias_hh must both be arrays or both"
    ):
        lstm_layer_forward(x, state, state, W, U, b_ih, None)
    with pytest.raises(
        TypeError, match=r"c0 has dtype float64 but x is float32"
    ):
        lstm_layer_forward(x, state, state.astype(np.float64), W, U, b_ih, b_hh)


def test_layer_parameters_refuses_a_layer_that_does_not_exist(model):
    with pytest.raises(
        ValueError, match=r"k must be an integer in \[0, 1\], got 2"
    ):
        model.layer_parameters(2)
    with pytest.raises(
        ValueError, match=r"k must be an integer in \[0, 1\], got -1"
    ):
        model.layer_parameters(-1)  # no wrapping around to the last layer
