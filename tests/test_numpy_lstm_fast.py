"""Tests of the tuned layer (numpy_lstm_fast): it must equal the plain layer of numpy_lstm.

The plain layer and model are checked against torch.nn.LSTM in test_numpy_lstm.py; here the
tuned ones are checked against them: the same outputs and caches (to float rounding), and
therefore the same backward pass, on several shapes, both dtypes, with and without bias.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from lstm_tutorial import bptt, numpy_lstm, numpy_lstm_fast
from lstm_tutorial.numpy_lstm import (
    LSTM,
    new_cell_state,
    new_hidden_state,
    packed_gate_rows,
)
from lstm_tutorial.numpy_lstm_fast import FastLSTM, pack_weights

TOLERANCE = {
    np.float32: dict(atol=2e-6, rtol=1e-5),
    np.float64: dict(atol=1e-12, rtol=1e-12),
}
#: (T, B, D, H): a single sequence and batches (the tuned layer lays them out differently),
#: one step, and a B = 1 input long enough to be projected in several blocks.
SHAPES = [
    (1, 1, 1, 1),
    (7, 1, 3, 5),
    (6, 4, 5, 3),
    (2, 9, 2, 7),
    (20, 1, 64, 128),
]
CACHE_FIELDS = [
    field.name for field in dataclasses.fields(numpy_lstm.LayerCache)
]


def random_array(shape, dtype=np.float32, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def layer_inputs(T, B, D, H, dtype, bias=True, order="F"):
    """x, h0, c0 and one layer's weights (the model's column-major ones, or row-major)."""
    params = LSTM(D, H, bias=bias, dtype=dtype, seed=1).layer_parameters(0)
    params = [None if p is None else np.asarray(p, order=order) for p in params]
    x = random_array((T, B, D), dtype, seed=2)
    h0, c0 = (
        random_array((B, H), dtype, seed=3),
        random_array((B, H), dtype, seed=4),
    )
    return x, h0, c0, params


def assert_caches_close(fast, plain, dtype):
    for name in CACHE_FIELDS:
        a, b = getattr(fast, name), getattr(plain, name)
        assert a.shape == b.shape and a.dtype == b.dtype == np.dtype(dtype), (
            name
        )
        np.testing.assert_allclose(a, b, **TOLERANCE[dtype], err_msg=name)


# --------------------------------------------------------------------------------------
# The layer: the same cache as the plain one, and so the same backward pass
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize(("T", "B", "D", "H"), SHAPES)
def test_layer_gives_the_plain_layers_cache(dtype, bias, T, B, D, H):
    x, h0, c0, params = layer_inputs(T, B, D, H, dtype, bias)
    fast = numpy_lstm_fast.lstm_layer_forward(x, h0, c0, *params)
    plain = numpy_lstm.lstm_layer_forward(x, h0, c0, *params)
    assert_caches_close(fast, plain, dtype)


@pytest.mark.parametrize("B", [1, 4])
@pytest.mark.parametrize(
    "order", ["C", "F"]
)  # PyTorch's row-major weights, ours column-major
def test_layer_accepts_weights_in_either_memory_order(B, order):
    x, h0, c0, params = layer_inputs(7, B, 3, 5, np.float32, order=order)
    fast = numpy_lstm_fast.lstm_layer_forward(x, h0, c0, *params)
    plain = numpy_lstm.lstm_layer_forward(x, h0, c0, *params)
    assert_caches_close(fast, plain, np.float32)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("T", "B", "D", "H"), SHAPES[1:4])
def test_backward_through_the_tuned_cache_equals_the_plain_one(
    dtype, T, B, D, H
):
    x, h0, c0, params = layer_inputs(T, B, D, H, dtype)
    weight_ih, weight_hh = params[:2]
    dh_out = random_array((T, B, H), dtype, seed=5)
    dh_n, dc_n = (
        random_array((B, H), dtype, seed=6),
        random_array((B, H), dtype, seed=7),
    )
    grads = [
        bptt.lstm_layer_backward(
            layer(x, h0, c0, *params), weight_ih, weight_hh, dh_out, dh_n, dc_n
        )
        for layer in (
            numpy_lstm_fast.lstm_layer_forward,
            numpy_lstm.lstm_layer_forward,
        )
    ]
    for name in [field.name for field in dataclasses.fields(grads[0])]:
        np.testing.assert_allclose(
            getattr(grads[0], name),
            getattr(grads[1], name),
            **TOLERANCE[dtype],
            err_msg=name,
        )


def test_the_loops_written_out_state_updates_are_the_teaching_functions_exactly():
    # The loop writes new_cell_state and new_hidden_state out: the same numbers, bit for bit.
    x, h0, c0, params = layer_inputs(6, 3, 4, 5, np.float32)
    cache = numpy_lstm_fast.lstm_layer_forward(x, h0, c0, *params)
    c_prev = c0
    for t in range(6):
        i, f, o, g = cache.gates[:, t]
        np.testing.assert_array_equal(
            cache.c[t], new_cell_state(c_prev, f, i, g)
        )
        np.testing.assert_array_equal(
            cache.h[t], new_hidden_state(o, cache.c[t])
        )
        c_prev = cache.c[t]


def test_a_gates_buffer_is_used_when_it_fits_and_ignored_otherwise():
    x, h0, c0, params = layer_inputs(5, 2, 3, 4, np.float32)
    plain = numpy_lstm.lstm_layer_forward(x, h0, c0, *params)
    buffer = np.full((4, 5, 2, 4), np.nan, np.float32)
    cache = numpy_lstm_fast.lstm_layer_forward(
        x, h0, c0, *params, gates_buffer=buffer
    )
    assert cache.gates is buffer
    assert_caches_close(cache, plain, np.float32)
    for misfit in (
        np.empty((4, 6, 2, 4), np.float32),
        np.empty((4, 5, 2, 4), np.float64),
    ):
        cache = numpy_lstm_fast.lstm_layer_forward(
            x, h0, c0, *params, gates_buffer=misfit
        )
        assert cache.gates is not misfit
        assert_caches_close(cache, plain, np.float32)
    read_only = np.empty((4, 5, 2, 4), np.float32)
    read_only.flags.writeable = False
    with pytest.raises(ValueError, match="gates_buffer must be writeable"):
        numpy_lstm_fast.lstm_layer_forward(
            x, h0, c0, *params, gates_buffer=read_only
        )


def test_the_layer_refuses_what_the_plain_layer_refuses():
    x, h0, c0, params = layer_inputs(5, 2, 3, 4, np.float32)
    for bad, message in [
        ((x, h0[:1], c0, *params), r"h0 must have shape \(B, H\) = \(2, 4\)"),
        (
            (x, h0, c0.astype(np.float64), *params),
            r"c0 has dtype float64 but x is float32",
        ),
        (
            (x, h0, c0, *params[:3], None),
            r"bias_ih and bias_hh must both be arrays",
        ),
    ]:
        for layer in (
            numpy_lstm.lstm_layer_forward,
            numpy_lstm_fast.lstm_layer_forward,
        ):
            with pytest.raises((ValueError, TypeError), match=message):
                layer(*bad)


@pytest.mark.parametrize("order", ["C", "F"])
def test_pack_weights_reorders_and_halves_exactly_in_both_layouts(order):
    D, H = 3, 2
    weight_ih, weight_hh = (
        random_array((4 * H, D), seed=1),
        random_array((4 * H, H), seed=2),
    )
    bias_ih, bias_hh = random_array(4 * H, seed=3), random_array(4 * H, seed=4)
    rows = packed_gate_rows(H)
    halves = np.repeat([0.5, 0.5, 0.5, 1.0], H).astype(
        np.float32
    )  # packed order i, f, o, g
    expected_ih_T = (weight_ih[rows] * halves[:, None]).T  # (D, 4H)
    expected_hh_T = (weight_hh[rows] * halves[:, None]).T  # (H, 4H)
    expected_b = (bias_ih + bias_hh)[rows] * halves
    w_ih, w_hh = (
        np.asarray(weight_ih, order=order),
        np.asarray(weight_hh, order=order),
    )

    W_ih_T, W_hh_T, b = pack_weights(
        w_ih, w_hh, bias_ih, bias_hh, side_by_side=True
    )
    np.testing.assert_array_equal(W_ih_T, expected_ih_T)
    np.testing.assert_array_equal(W_hh_T, expected_hh_T)
    np.testing.assert_array_equal(b, expected_b)
    assert W_hh_T.flags.c_contiguous

    W_ih_T, W_hh_T, b = pack_weights(w_ih, w_hh, bias_ih, bias_hh)
    assert (
        W_ih_T.shape == (4, D, H)
        and W_hh_T.shape == (4, H, H)
        and b.shape == (4, 1, H)
    )
    np.testing.assert_array_equal(
        W_ih_T.transpose(1, 0, 2).reshape(D, 4 * H), expected_ih_T
    )
    np.testing.assert_array_equal(
        W_hh_T.transpose(1, 0, 2).reshape(H, 4 * H), expected_hh_T
    )
    np.testing.assert_array_equal(b.reshape(4 * H), expected_b)
    assert W_hh_T.flags.c_contiguous
    assert pack_weights(w_ih, w_hh)[2] is None
    np.testing.assert_array_equal(
        weight_ih, w_ih
    )  # the inputs are left as they were


# --------------------------------------------------------------------------------------
# The model: numpy_lstm.LSTM with the tuned layer
# --------------------------------------------------------------------------------------


def twins(dtype=np.float32, **kwargs):
    """An LSTM and a FastLSTM with the same parameters (the same seed gives the same ones)."""
    plain, fast = (
        LSTM(**kwargs, dtype=dtype, seed=3),
        FastLSTM(**kwargs, dtype=dtype, seed=3),
    )
    for a, b in zip(plain.parameters(), fast.parameters(), strict=True):
        np.testing.assert_array_equal(a, b)
    return plain, fast


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    ("num_layers", "batch_first", "bias", "shape"),
    [
        (1, False, True, (6, 4, 3)),  # (T, B, D)
        (2, True, True, (1, 5, 3)),  # (B, T, D): a single sequence
        (3, True, False, (4, 6, 3)),
        (2, False, True, (5, 3)),  # unbatched (T, D)
    ],
)
def test_model_gives_the_plain_models_outputs_caches_and_gradients(
    dtype, num_layers, batch_first, bias, shape
):
    kwargs = dict(input_size=3, hidden_size=5, num_layers=num_layers, bias=bias)
    plain, fast = twins(dtype, **kwargs, batch_first=batch_first)
    x = random_array(shape, dtype, seed=1)
    state_shape = (
        (num_layers, 5)
        if len(shape) == 2
        else (num_layers, shape[0 if batch_first else 1], 5)
    )
    hx = (
        random_array(state_shape, dtype, seed=2),
        random_array(state_shape, dtype, seed=3),
    )
    results = [model(x, hx) for model in (plain, fast)]
    (out_p, (h_p, c_p)), (out_f, (h_f, c_f)) = results
    for a, b in ((out_f, out_p), (h_f, h_p), (c_f, c_p)):
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, **TOLERANCE[dtype])
    for fast_layer, plain_layer in zip(
        fast._cache.layers, plain._cache.layers, strict=True
    ):
        assert_caches_close(fast_layer, plain_layer, dtype)

    grads_in = [
        random_array(a.shape, dtype, seed=k)
        for k, a in enumerate((out_p, h_p, c_p))
    ]
    grad_x = [bptt.lstm_backward(model, *grads_in) for model in (plain, fast)]
    np.testing.assert_allclose(grad_x[1], grad_x[0], **TOLERANCE[dtype])
    for name in plain.grads:
        np.testing.assert_allclose(
            fast.grads[name], plain.grads[name], **TOLERANCE[dtype]
        )


def test_model_matches_torch():
    torch.manual_seed(0)
    reference = torch.nn.LSTM(4, 6, num_layers=2)
    fast = FastLSTM(4, 6, num_layers=2)
    fast.load_state_dict(reference.state_dict())
    x = random_array((8, 3, 4))
    output, (h_n, c_n) = fast(x)
    with torch.no_grad():
        expected, (h_t, c_t) = reference(torch.from_numpy(x))
    for a, b in ((output, expected), (h_n, h_t), (c_n, c_t)):
        np.testing.assert_allclose(a, b.numpy(), atol=1e-5, rtol=1e-6)


def test_model_reuses_the_previous_gate_buffers_and_stays_exact():
    plain, fast = twins(input_size=3, hidden_size=4, num_layers=2)
    first_x, second_x = (
        random_array((5, 2, 3), seed=1),
        random_array((5, 2, 3), seed=2),
    )
    first_output, _ = fast(first_x)
    first_output = first_output.copy()
    first_gates = [layer.gates for layer in fast._cache.layers]
    output, (h_n, c_n) = fast(second_x)
    assert all(
        layer.gates is gates
        for layer, gates in zip(fast._cache.layers, first_gates, strict=True)
    )
    expected, (h_e, c_e) = plain(second_x)
    for a, b in ((output, expected), (h_n, h_e), (c_n, c_e)):
        np.testing.assert_allclose(a, b, **TOLERANCE[np.float32])
    np.testing.assert_allclose(
        first_output, plain(first_x)[0], **TOLERANCE[np.float32]
    )
    fast(random_array((6, 2, 3), seed=3))  # another length: new buffers
    assert fast._cache.layers[0].gates.shape == (4, 6, 2, 4)


def test_earlier_outputs_survive_a_later_call():
    _, fast = twins(input_size=3, hidden_size=4, num_layers=2)
    first, (h_first, c_first) = fast(random_array((5, 2, 3), seed=1))
    copies = [a.copy() for a in (first, h_first, c_first)]
    fast(random_array((5, 2, 3), seed=2))  # reuses the gate buffers only
    for a, b in zip((first, h_first, c_first), copies, strict=True):
        np.testing.assert_array_equal(a, b)


def test_model_is_an_lstm_with_its_own_name():
    fast = FastLSTM(3, 4, num_layers=2, batch_first=True, seed=0)
    assert isinstance(fast, LSTM)
    assert repr(fast) == "FastLSTM(3, 4, num_layers=2, batch_first=True)"
    assert list(fast.state_dict()) == list(
        LSTM(3, 4, num_layers=2).state_dict()
    )
