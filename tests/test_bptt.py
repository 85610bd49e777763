"""Tests of backpropagation through time: the NumPy gradients must be torch autograd's.

Every comparison loads the same weights into ``torch.nn.LSTM`` and our ``LSTM``, runs both
on the same input and initial state, backpropagates the same loss
``sum(output * R) + sum(h_n * R_h) + sum(c_n * R_c)`` (so that ``grad_output = R`` and so
on) and compares the gradients of every parameter, of the input and of the initial state.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from lstm_tutorial.bptt import (
    backpropagate_through_jacobians,
    clip_grad_norm,
    finite_difference,
    lstm_backward,
    lstm_cell_step_backward,
    lstm_layer_backward,
)
from lstm_tutorial.gradcheck import check_gradients
from lstm_tutorial.numpy_lstm import (
    LSTM,
    lstm_cell_step,
    lstm_layer_forward,
    split_gates,
)
from lstm_tutorial.rnn import RNN, lstm_state_jacobians, rnn_state_jacobians

TORCH_DTYPE = {np.float32: torch.float32, np.float64: torch.float64}
# The largest difference, relative to the largest entry of torch's gradient.
RELATIVE_TOLERANCE = {np.float32: 1e-4, np.float64: 1e-10}


def relative_difference(actual, expected):
    return np.abs(actual - expected).max() / np.abs(expected).max()


def make_problem(dtype, D=3, H=5, T=6, B=2, num_layers=1, batch_first=False,
                 unbatched=False, bias=True, initial_state=True, state_grads=True,
                 seed=0):  # fmt: skip
    """A torch LSTM, our LSTM with its weights, an input, an initial state, loss weights."""
    torch.manual_seed(seed)
    kwargs = dict(num_layers=num_layers, bias=bias, batch_first=batch_first)
    reference = torch.nn.LSTM(D, H, **kwargs).to(TORCH_DTYPE[dtype])
    ours = LSTM(D, H, **kwargs, dtype=dtype)
    ours.load_state_dict(reference.state_dict())
    rng = np.random.default_rng(seed)

    def draw(*shape):
        return rng.standard_normal(shape).astype(dtype)

    if unbatched:
        x, state_shape, out_shape = draw(T, D), (num_layers, H), (T, H)
    elif batch_first:
        x, state_shape, out_shape = draw(B, T, D), (num_layers, B, H), (B, T, H)
    else:
        x, state_shape, out_shape = draw(T, B, D), (num_layers, B, H), (T, B, H)
    hx = (draw(*state_shape), draw(*state_shape)) if initial_state else None
    R = draw(*out_shape)
    R_h, R_c = (
        (draw(*state_shape), draw(*state_shape))
        if state_grads
        else (None, None)
    )
    return reference, ours, x, hx, (R, R_h, R_c)


def torch_gradients(reference, x, hx, loss_weights):
    """Autograd's gradients of the loss: parameters by name, then x, h0, c0 (or None)."""
    R, R_h, R_c = loss_weights
    x_t = torch.tensor(x, requires_grad=True)
    hx_t = (
        None
        if hx is None
        else tuple(torch.tensor(s, requires_grad=True) for s in hx)
    )
    output, (h_n, c_n) = reference(x_t, hx_t)
    loss = (output * torch.from_numpy(R)).sum()
    if R_h is not None:
        loss = (
            loss
            + (h_n * torch.from_numpy(R_h)).sum()
            + (c_n * torch.from_numpy(R_c)).sum()
        )
    loss.backward()
    grads = {name: p.grad.numpy() for name, p in reference.named_parameters()}
    grads["x"] = x_t.grad.numpy()
    if hx is not None:
        grads["h0"], grads["c0"] = (s.grad.numpy() for s in hx_t)
    return grads


def our_gradients(model, x, hx, loss_weights):
    model(x, hx)
    grad_x = lstm_backward(model, *loss_weights)
    grads = dict(model.grads)
    grads["x"] = grad_x
    if hx is not None:
        grads["h0"], grads["c0"] = model.grad_hx
    return grads


CASES = {
    "one layer": dict(),
    "two layers": dict(num_layers=2),
    "three layers, batch_first": dict(num_layers=3, batch_first=True),
    "unbatched": dict(unbatched=True, num_layers=2),
    "batch of one": dict(B=1),
    "no bias": dict(bias=False, num_layers=2),
    "zero initial state": dict(initial_state=False),
    "output gradient only": dict(state_grads=False, num_layers=2),
    "one step": dict(T=1, num_layers=2),
}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", CASES, ids=str)
def test_gradients_match_torch_autograd(case, dtype):
    reference, ours, x, hx, loss_weights = make_problem(dtype, **CASES[case])
    expected = torch_gradients(reference, x, hx, loss_weights)
    actual = our_gradients(ours, x, hx, loss_weights)
    assert list(actual) == list(expected)
    for name, value in actual.items():
        assert value.shape == expected[name].shape, name
        assert value.dtype == np.dtype(dtype), name
        assert (
            relative_difference(value, expected[name])
            < RELATIVE_TOLERANCE[dtype]
        ), name


def test_gradients_match_central_finite_differences():
    D, H, L, T, B = 2, 3, 2, 4, 2
    model = LSTM(D, H, num_layers=L, dtype=np.float64, seed=1)
    rng = np.random.default_rng(1)
    x = rng.standard_normal((T, B, D))
    h0, c0 = rng.standard_normal((2, L, B, H))
    R, R_h, R_c = (
        rng.standard_normal((T, B, H)),
        *rng.standard_normal((2, L, B, H)),
    )
    params = dict(model.named_parameters()) | {"x": x, "h0": h0, "c0": c0}

    def loss(x, h0, c0, **weights):  # the weights are the model's own arrays
        output, (h_n, c_n) = model(x, (h0, c0))
        return np.sum(output * R) + np.sum(h_n * R_h) + np.sum(c_n * R_c)

    model(x, (h0, c0))
    grad_x = lstm_backward(model, R, R_h, R_c)
    grads = model.grads | {
        "x": grad_x,
        "h0": model.grad_hx[0],
        "c0": model.grad_hx[1],
    }
    report = check_gradients(loss, params, grads, eps=1e-6)
    assert report.checked == sum(p.size for p in params.values())
    assert report.passed(1e-6), str(report)


def test_grads_have_the_keys_order_shapes_and_dtype_of_the_state_dict():
    model = LSTM(3, 4, num_layers=2, dtype=np.float32, seed=0)
    output, _ = model(np.ones((5, 2, 3), np.float32))
    lstm_backward(model, np.ones_like(output))
    state = model.state_dict()
    assert list(model.grads) == list(state)
    for name, value in state.items():
        assert model.grads[name].shape == value.shape
        assert model.grads[name].dtype == np.float32


@pytest.mark.parametrize("batch_first", [False, True])
def test_input_and_state_gradients_have_the_forward_layout(batch_first):
    L, D, H = 2, 3, 4
    model = LSTM(
        D, H, num_layers=L, batch_first=batch_first, dtype=np.float64, seed=0
    )
    x = np.random.default_rng(0).standard_normal(
        (6, 2, D)
    )  # (B=6, T=2) if batch_first
    output, (h_n, c_n) = model(x)
    grad_x = lstm_backward(model, np.ones_like(output))
    assert grad_x.shape == x.shape
    assert [g.shape for g in model.grad_hx] == [h_n.shape, c_n.shape]
    # unbatched: (T, D) in, (num_layers, H) states
    output, (h_n, _) = model(x[0])
    assert lstm_backward(model, np.ones_like(output)).shape == x[0].shape
    assert model.grad_hx[0].shape == h_n.shape == (L, H)


def test_none_state_gradients_mean_zeros():
    model = LSTM(3, 4, num_layers=2, dtype=np.float64, seed=0)
    output, (h_n, _) = model(
        np.random.default_rng(0).standard_normal((5, 2, 3))
    )
    grad_output = np.random.default_rng(1).standard_normal(output.shape)
    without = lstm_backward(model, grad_output)
    grads_without = model.grads
    with_zeros = lstm_backward(
        model, grad_output, np.zeros_like(h_n), np.zeros_like(h_n)
    )
    np.testing.assert_array_equal(without, with_zeros)
    for name, value in model.grads.items():
        np.testing.assert_array_equal(value, grads_without[name])


def test_backward_leaves_its_arguments_unchanged_and_can_be_repeated():
    reference, ours, x, hx, loss_weights = make_problem(
        np.float64, num_layers=2
    )
    copies = [w.copy() for w in loss_weights]
    first = our_gradients(ours, x, hx, loss_weights)
    second = lstm_backward(ours, *loss_weights)
    for before, after in zip(copies, loss_weights, strict=True):
        np.testing.assert_array_equal(before, after)
    np.testing.assert_array_equal(first["x"], second)


def test_cell_step_backward_matches_torch_lstm_cell():
    """One step: a loss a . h_t + b . c_t, with b playing the gradient carried into c_t."""
    B, D, H = 3, 4, 5
    torch.manual_seed(0)
    cell = torch.nn.LSTMCell(D, H).double()
    rng = np.random.default_rng(0)
    x, h_prev, c_prev = (
        rng.standard_normal((B, D)),
        *rng.standard_normal((2, B, H)),
    )
    a, b = rng.standard_normal((2, B, H))
    h_prev_t = torch.tensor(h_prev, requires_grad=True)
    c_prev_t = torch.tensor(c_prev, requires_grad=True)
    h_t, c_t = cell(torch.from_numpy(x), (h_prev_t, c_prev_t))
    (
        (h_t * torch.from_numpy(a)).sum() + (c_t * torch.from_numpy(b)).sum()
    ).backward()

    weights = [
        p.detach().numpy() for p in cell.parameters()
    ]  # w_ih, w_hh, b_ih, b_hh
    _, c_new, gates = lstm_cell_step(x, h_prev, c_prev, *weights)
    i, f, g, o = split_gates(gates)
    tanh_c = np.tanh(c_new)
    weight_hh = weights[1]
    dc, dz, dh_prev, dc_prev = lstm_cell_step_backward(
        a, b, i, f, g, o, c_prev, tanh_c, weight_hh
    )
    np.testing.assert_allclose(
        dh_prev, h_prev_t.grad.numpy(), rtol=1e-10, atol=1e-12
    )
    np.testing.assert_allclose(
        dc_prev, c_prev_t.grad.numpy(), rtol=1e-10, atol=1e-12
    )
    np.testing.assert_allclose(
        dz.sum(axis=0), cell.bias_ih.grad.numpy(), rtol=1e-10, atol=1e-12
    )
    np.testing.assert_allclose(dc_prev, f * dc)  # the highway


def test_cell_step_backward_writes_into_the_given_array():
    rng = np.random.default_rng(0)
    B, H = 2, 3
    args = [rng.standard_normal((B, H)) for _ in range(8)]
    out = np.empty((B, 4 * H))
    _, dz, _, _ = lstm_cell_step_backward(
        *args, rng.standard_normal((4 * H, H)), dz=out
    )
    assert dz is out


def test_layer_state_gradients_match_products_of_step_jacobians():
    """dL/dh_t and dL/dc_t at every step, from BPTT and from Part I's Jacobians."""
    D, H, T = 3, 4, 7
    model = LSTM(D, H, dtype=np.float64, seed=2)
    rng = np.random.default_rng(2)
    x, h0, c0, r = rng.standard_normal((T, D)), *rng.standard_normal((3, H))
    weights = model.layer_parameters(0)
    cache = lstm_layer_forward(x[:, None], h0[None], c0[None], *weights)
    dh_out = np.zeros((T, 1, H))
    dh_out[-1, 0] = r  # L = r . h_T
    grads = lstm_layer_backward(cache, weights[0], weights[1], dh_out)
    expected = backpropagate_through_jacobians(
        lstm_state_jacobians(x, h0, c0, *weights),
        np.concatenate([r, np.zeros(H)]),
    )  # rows t = 0 .. T of (dL/dh_t, dL/dc_t)
    np.testing.assert_allclose(
        grads.h[:, 0], expected[1:, :H], rtol=1e-10, atol=1e-14
    )
    # The Jacobians treat (h_t, c_t) as the state handed on, so their dL/dc_t is the part
    # that flows on through c_{t+1}; the step hands back exactly that, f_t * dL/dc_t.
    i, f, o, g = cache.gates
    np.testing.assert_allclose(
        f * grads.c, expected[:-1, None, H:], rtol=1e-10, atol=1e-14
    )
    np.testing.assert_allclose(
        grads.h0[0], expected[0, :H], rtol=1e-10, atol=1e-14
    )
    np.testing.assert_allclose(
        grads.c0[0], expected[0, H:], rtol=1e-10, atol=1e-14
    )


def test_backpropagate_through_jacobians_matches_autograd_for_the_rnn():
    D, H, T = 3, 5, 9
    torch.manual_seed(0)
    reference = torch.nn.RNN(D, H).double()
    rnn = RNN(D, H, dtype=np.float64)
    rnn.load_state_dict(reference.state_dict())
    rng = np.random.default_rng(0)
    x, h0, r = (
        rng.standard_normal((T, D)),
        rng.standard_normal(H),
        rng.standard_normal(H),
    )
    grads = backpropagate_through_jacobians(
        rnn_state_jacobians(x, h0, *rnn.parameters()), r
    )
    h0_t = torch.tensor(h0[None], requires_grad=True)
    _, h_n = reference(torch.from_numpy(x), h0_t)
    (h_n[0] @ torch.from_numpy(r)).backward()
    np.testing.assert_allclose(
        grads[0], h0_t.grad.numpy()[0], rtol=1e-10, atol=1e-14
    )
    np.testing.assert_array_equal(grads[T], r)


def test_a_replaced_step_function_is_used():
    reference, ours, x, hx, loss_weights = make_problem(np.float64)
    right = our_gradients(ours, x, hx, loss_weights)

    def no_highway(dh, dc_carried, *rest, **kwargs):
        return lstm_cell_step_backward(
            dh, np.zeros_like(dc_carried), *rest, **kwargs
        )

    ours(x, hx)
    lstm_backward(ours, *loss_weights, step=no_highway)
    assert (
        relative_difference(ours.grads["weight_hh_l0"], right["weight_hh_l0"])
        > 1e-3
    )


# --------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------


def test_backward_before_any_forward_pass_is_an_error():
    model = LSTM(3, 4)
    with pytest.raises(ValueError, match="call model\\(x\\) first"):
        lstm_backward(model, np.ones((5, 2, 4), np.float32))


def test_backward_of_something_else_than_an_lstm_is_an_error():
    with pytest.raises(ValueError, match="numpy_lstm.LSTM"):
        lstm_backward(RNN(3, 4), np.ones((5, 2, 4), np.float32))


def test_gradient_of_the_wrong_shape_is_an_error():
    model = LSTM(3, 4, num_layers=2, batch_first=True)
    output, (h_n, _) = model(np.ones((2, 5, 3), np.float32))
    with pytest.raises(
        ValueError, match=r"grad_output must have the shape.*\(2, 5, 4\)"
    ):
        lstm_backward(model, np.ones((5, 2, 4), np.float32))
    with pytest.raises(
        ValueError, match=r"grad_h_n must have the shape of .*h_n, \(2, 2, 4\)"
    ):
        lstm_backward(model, np.ones_like(output), np.ones((2, 4), np.float32))
    with pytest.raises(ValueError, match="grad_c_n"):
        lstm_backward(
            model, np.ones_like(output), None, np.ones((1, 2, 4), np.float32)
        )


def test_gradient_of_the_wrong_dtype_or_type_is_an_error():
    model = LSTM(3, 4)
    output, _ = model(np.ones((5, 2, 3), np.float32))
    with pytest.raises(ValueError, match="float64 but the model is float32"):
        lstm_backward(model, np.ones(output.shape))
    with pytest.raises(ValueError, match="must be a NumPy array"):
        lstm_backward(model, output.tolist())


def test_failed_backward_leaves_no_gradients_behind():
    model = LSTM(3, 4)
    output, _ = model(np.ones((5, 2, 3), np.float32))
    with pytest.raises(ValueError):
        lstm_backward(model, np.ones((1, 1, 1), np.float32))
    assert not hasattr(model, "grads")


# --------------------------------------------------------------------------------------
# Clipping
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("max_norm", [0.5, 3.0, 100.0])
def test_clip_grad_norm_matches_torch(dtype, max_norm):
    rng = np.random.default_rng(0)
    grads = {
        "a": rng.standard_normal((4, 3)),
        "b": rng.standard_normal(5),
        "c": np.ones(()),
    }
    grads = {k: v.astype(dtype) for k, v in grads.items()}
    tensors = [torch.tensor(v, requires_grad=True) for v in grads.values()]
    for t, v in zip(tensors, grads.values(), strict=True):
        t.grad = torch.tensor(v)
    expected_norm = torch.nn.utils.clip_grad_norm_(tensors, max_norm)
    total_norm = clip_grad_norm(grads, max_norm)
    assert isinstance(total_norm, float)
    assert total_norm == pytest.approx(expected_norm.item(), rel=1e-6)
    for t, v in zip(tensors, grads.values(), strict=True):
        assert v.dtype == np.dtype(dtype)
        np.testing.assert_allclose(v, t.grad.numpy(), rtol=1e-6)


def test_clip_grad_norm_keeps_the_direction_and_caps_the_length():
    rng = np.random.default_rng(1)
    grads = {
        "u": 50 * rng.standard_normal(10),
        "w": 50 * rng.standard_normal((3, 3)),
    }
    before = np.concatenate([g.ravel() for g in grads.values()])
    norm = clip_grad_norm(grads, 1.0)
    after = np.concatenate([g.ravel() for g in grads.values()])
    assert norm == pytest.approx(np.linalg.norm(before))
    assert np.linalg.norm(after) == pytest.approx(1.0, rel=1e-5)
    cosine = after @ before / (np.linalg.norm(after) * np.linalg.norm(before))
    assert cosine == pytest.approx(1.0, abs=1e-12)


@pytest.mark.parametrize(
    "grads, max_norm, message",
    [
        ({"a": np.ones(3)}, 0.0, "max_norm must be a finite number > 0"),
        ({"a": np.ones(3)}, True, "max_norm must be a finite number > 0"),
        ({"a": [1.0, 2.0]}, 1.0, r"grads\['a'\] must be a NumPy array"),
        ({"a": np.arange(3)}, 1.0, "floating-point NumPy array"),
        ([np.ones(3)], 1.0, "grads must be a mapping"),
        ({"a": np.array([1.0, np.nan])}, 1.0, "nan or inf"),
    ],
)
def test_clip_grad_norm_rejects_bad_arguments(grads, max_norm, message):
    with pytest.raises(ValueError, match=message):
        clip_grad_norm(grads, max_norm)


# --------------------------------------------------------------------------------------
# Finite differences
# --------------------------------------------------------------------------------------


def test_finite_difference_errors_shrink_like_eps_squared_and_eps():
    a = np.array([[0.3, 1.2]])

    def loss():
        return np.sum(np.sin(a))

    exact = np.cos(1.2)
    errors = {}
    for central in (True, False):
        errors[central] = [
            abs(
                finite_difference(loss, a, (0, 1), eps, central=central) - exact
            )
            for eps in (1e-2, 1e-3)
        ]
    # ten times smaller eps: error 100 times smaller (central), 10 times (forward)
    assert errors[True][0] / errors[True][1] == pytest.approx(100, rel=0.01)
    assert errors[False][0] / errors[False][1] == pytest.approx(10, rel=0.02)
    np.testing.assert_array_equal(a, [[0.3, 1.2]])  # restored


def test_finite_difference_rejects_bad_arguments():
    a = np.zeros((2, 2))
    with pytest.raises(ValueError, match="tuple of 2 integers"):
        finite_difference(lambda: 0.0, a, 1, 1e-3)
    with pytest.raises(ValueError, match="eps must be a finite number > 0"):
        finite_difference(lambda: 0.0, a, (0, 0), 0.0)
    with pytest.raises(ValueError, match="floating-point"):
        finite_difference(lambda: 0.0, np.zeros(2, int), (0,), 1e-3)


def test_model_backward_method_matches_torch_autograd_for_stacked_batch_first():
    torch.manual_seed(0)
    reference = torch.nn.LSTM(
        3, 5, num_layers=2, batch_first=True, dtype=torch.float64
    )
    model = LSTM(3, 5, num_layers=2, batch_first=True, dtype=np.float64)
    model.load_state_dict(reference.state_dict())
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 4, 3))
    out, (h_n, c_n) = model(x)
    g_out, g_h, g_c = (rng.standard_normal(a.shape) for a in (out, h_n, c_n))
    grad_x = model.backward(g_out, g_h, g_c)

    x_t = torch.tensor(x, requires_grad=True)
    o_t, (h_t, c_t) = reference(x_t)
    loss = (o_t * torch.from_numpy(g_out)).sum() + (
        h_t * torch.from_numpy(g_h)
    ).sum()
    loss = loss + (c_t * torch.from_numpy(g_c)).sum()
    loss.backward()
    np.testing.assert_allclose(grad_x, x_t.grad.numpy(), atol=1e-12)
    assert list(model.grads) == list(model.state_dict())
    for name, p in reference.named_parameters():
        np.testing.assert_allclose(
            model.grads[name], p.grad.numpy(), atol=1e-12
        )
    assert model.grad_hx[0].shape == h_n.shape


def test_model_backward_before_forward_is_a_clear_error():
    with pytest.raises(ValueError, match="forward"):
        LSTM(2, 3).backward(np.zeros((1, 1, 3), dtype=np.float32))


# --------------------------------------------------------------------------------------
# Bad input: what the bad-input harness (test_bad_input_numpy.py) cannot express
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "max_norm", [True, math.inf, math.nan, 0, 0.0, -1.0, "1.0", None]
)
def test_clip_grad_norm_refuses_a_max_norm_that_is_not_a_finite_positive_number(
    max_norm,
):
    grads = {"a": np.full(3, 10.0)}
    with pytest.raises(
        ValueError, match=r"max_norm must be a finite number > 0"
    ):
        clip_grad_norm(grads, max_norm)
    np.testing.assert_array_equal(grads["a"], 10.0)  # nothing scaled


def test_clip_grad_norm_refuses_one_array_twice_and_scales_nothing():
    a = np.full(4, 10.0)
    with pytest.raises(
        ValueError, match=r"grads\['b'\] and grads\['a'\] share memory"
    ):
        clip_grad_norm({"a": a, "b": a}, 1.0)
    with pytest.raises(ValueError, match="share memory"):
        clip_grad_norm({"a": a, "b": a[2:]}, 1.0)
    np.testing.assert_array_equal(a, 10.0)
    clip_grad_norm({"a": a[:2], "b": a[2:]}, 100.0)  # disjoint views are fine


def test_clip_grad_norm_refuses_an_empty_dict_and_read_only_arrays():
    with pytest.raises(ValueError, match="at least one gradient"):
        clip_grad_norm({}, 1.0)
    frozen = np.ones(3)
    frozen.flags.writeable = False
    with pytest.raises(ValueError, match=r"grads\['w'\] must be writeable"):
        clip_grad_norm({"w": frozen}, 1.0)


def test_finite_difference_restores_the_array_when_loss_fails_or_returns_no_number():
    a = np.array([[0.3, 1.2]])

    def broken():
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        finite_difference(broken, a, (0, 1), 1e-3)
    np.testing.assert_array_equal(a, [[0.3, 1.2]])
    with pytest.raises(TypeError, match=r"loss must return a real number"):
        finite_difference(lambda: a.copy(), a, (0, 1), 1e-3)
    np.testing.assert_array_equal(a, [[0.3, 1.2]])
    with pytest.raises(TypeError, match=r"loss must return a real number"):
        finite_difference(lambda: "0.5", a, (0, 1), 1e-3)
    np.testing.assert_array_equal(a, [[0.3, 1.2]])


def test_finite_difference_refuses_an_index_outside_the_array_instead_of_wrapping():
    a = np.zeros((2, 3))
    with pytest.raises(
        ValueError, match=r"index\[1\] = -1 is outside axis 1 of array"
    ):
        finite_difference(lambda: 0.0, a, (0, -1), 1e-3)
    with pytest.raises(ValueError, match=r"index\[0\] = 2 is outside axis 0"):
        finite_difference(lambda: 0.0, a, (2, 0), 1e-3)
    with pytest.raises(TypeError, match=r"index\[0\] must be an integer"):
        finite_difference(lambda: 0.0, a, (0.0, 0), 1e-3)


def test_layer_backward_refuses_gradients_and_weights_that_do_not_fit_the_cache():
    W, U, b_ih, b_hh = LSTM(3, 4, seed=0).layer_parameters(0)
    state = np.zeros((2, 4), np.float32)
    cache = lstm_layer_forward(
        np.zeros((5, 2, 3), np.float32), state, state, W, U, b_ih, b_hh
    )
    with pytest.raises(ValueError, match=r"dh_out must have shape \(5, 2, 4\)"):
        lstm_layer_backward(cache, W, U, np.zeros((5, 1, 4), np.float32))
    with pytest.raises(ValueError, match=r"dc_n must have shape \(2, 4\)"):
        lstm_layer_backward(
            cache, W, U, np.zeros((5, 2, 4), np.float32), None, state[:1]
        )
    W8, U8, _, _ = LSTM(3, 8, seed=0).layer_parameters(0)
    with pytest.raises(
        ValueError, match=r"weight_hh must have shape \(4H, H\) = \(16, 4\)"
    ):
        lstm_layer_backward(cache, W8, U8, np.zeros((5, 2, 4), np.float32))
    with pytest.raises(
        TypeError, match=r"dh_out has dtype float64 but the cache is float32"
    ):
        lstm_layer_backward(cache, W, U, np.zeros((5, 2, 4)))


def test_nan_gradients_flow_through_the_backward_pass_for_the_divergence_check():
    # A diverged loss gives NaN gradients; lstm_backward passes them on (the training loop
    # reports the divergence), while clip_grad_norm refuses them.
    model = LSTM(3, 4, seed=0)
    output, _ = model(np.ones((5, 2, 3), np.float32))
    grad_x = lstm_backward(model, np.full_like(output, np.nan))
    assert np.isnan(grad_x).all()
    with pytest.raises(ValueError, match="grads hold nan or inf"):
        clip_grad_norm(model.grads, 1.0)


# The functions the book shows (with show_source) fit its code column


@pytest.mark.parametrize(
    "fn",
    [
        lstm_cell_step_backward,
        lstm_layer_backward,
        backpropagate_through_jacobians,
        clip_grad_norm,
        finite_difference,
    ],
    ids=lambda fn: fn.__name__,
)
def test_shown_functions_are_at_most_80_columns_docstring_included(fn):
    import inspect

    lines = inspect.getsource(fn).splitlines()
    too_wide = [
        (k, len(line)) for k, line in enumerate(lines) if len(line) > 80
    ]
    assert not too_wide, f"lines (index, width) wider than 80: {too_wide}"
