"""The NumPy RNN against torch.nn.RNN, the state Jacobians against autograd."""

from __future__ import annotations

import inspect

import numpy as np
import pytest
import torch
from torch.autograd.functional import jacobian

from lstm_tutorial import rnn
from lstm_tutorial.numpy_lstm import lstm_cell_step
from lstm_tutorial.rnn import (
    RNN,
    cumulative_products,
    lstm_state_jacobians,
    lstm_step_jacobian,
    orthogonal_matrix,
    rnn_state_jacobians,
    rnn_step,
    rnn_step_jacobian,
    spectral_norms,
)

TOLERANCE = {
    np.float32: dict(atol=1e-5, rtol=1e-5),
    np.float64: dict(atol=1e-10, rtol=1e-10),
}
TORCH_DTYPE = {np.float32: torch.float32, np.float64: torch.float64}


def random_array(shape, seed, scale=1.0, dtype=np.float64):
    return (scale * np.random.default_rng(seed).standard_normal(shape)).astype(
        dtype
    )


def torch_rnn_and_ours(D, H, dtype):
    torch.manual_seed(0)
    reference = torch.nn.RNN(D, H, nonlinearity="tanh").to(TORCH_DTYPE[dtype])
    ours = RNN(D, H, dtype=dtype, seed=1)
    ours.load_state_dict(reference.state_dict())
    return reference, ours


def numpy_params(module):
    """A torch module's parameters as float64 NumPy arrays, keyed by name."""
    return {
        k: v.detach().numpy().astype(np.float64)
        for k, v in module.state_dict().items()
    }


# ------------------------------------------------------------------------------
# The code the book shows fits its page
# ------------------------------------------------------------------------------


def test_every_line_of_the_module_fits_the_book_column_of_80_characters():
    # The book shows rnn_step, rnn_step_jacobian, cumulative_products and
    # lstm_step_jacobian with their docstrings; the whole module keeps to the
    # same width, so that any function of it can be shown.
    lines = inspect.getsource(rnn).splitlines()
    wide = [(k, len(line)) for k, line in enumerate(lines, 1) if len(line) > 80]
    assert wide == [], f"lines wider than 80 characters (line, width): {wide}"


# ------------------------------------------------------------------------------
# The RNN itself
# ------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("batch", [None, 1, 4])  # None: unbatched (T, D)
@pytest.mark.parametrize("given_state", [False, True])
def test_rnn_matches_torch_rnn(dtype, batch, given_state):
    T, D, H = 9, 3, 5
    reference, ours = torch_rnn_and_ours(D, H, dtype)
    lead = () if batch is None else (batch,)
    x = random_array((T, *lead, D), seed=2, dtype=dtype)
    h0 = (
        random_array((1, *lead, H), seed=3, scale=0.5, dtype=dtype)
        if given_state
        else None
    )
    with torch.no_grad():
        expected = reference(
            torch.from_numpy(x), None if h0 is None else torch.from_numpy(h0)
        )
    output, h_n = ours(x, h0)
    for actual, wanted in zip((output, h_n), expected, strict=True):
        assert actual.shape == tuple(wanted.shape)
        assert actual.dtype == np.dtype(dtype)
        np.testing.assert_allclose(actual, wanted.numpy(), **TOLERANCE[dtype])


def test_rnn_step_matches_torch_rnn_cell_for_a_batch_and_one_example():
    torch.manual_seed(0)
    cell = torch.nn.RNNCell(4, 6).double()
    p = numpy_params(cell)
    x, h = random_array((3, 4), seed=1), random_array((3, 6), seed=2)
    with torch.no_grad():
        expected = cell(torch.from_numpy(x), torch.from_numpy(h)).numpy()
    weights = (p["weight_ih"], p["weight_hh"], p["bias_ih"], p["bias_hh"])
    np.testing.assert_allclose(rnn_step(x, h, *weights), expected, atol=1e-12)
    np.testing.assert_allclose(
        rnn_step(x[1], h[1], *weights), expected[1], atol=1e-12
    )


def test_rnn_state_dict_has_torch_keys_shapes_and_initialisation_bound():
    ours = RNN(3, 16, seed=0)
    theirs = torch.nn.RNN(3, 16).state_dict()
    assert list(ours.state_dict()) == list(theirs)
    for key, value in ours.state_dict().items():
        assert value.shape == tuple(theirs[key].shape)
        assert value.dtype == np.float32
        assert np.all(np.abs(value) <= 0.25 + 1e-7)  # 1 / sqrt(16)
    again = RNN(3, 16, seed=0).state_dict()
    assert all(
        np.array_equal(again[k], v) for k, v in ours.state_dict().items()
    )
    assert repr(ours) == "RNN(3, 16)"


def test_rnn_load_state_dict_refuses_missing_or_misshaped_entries():
    ours = RNN(2, 3, seed=0)
    state = ours.state_dict()
    missing = {k: v for k, v in state.items() if k != "bias_hh_l0"}
    with pytest.raises(ValueError, match=r"missing.*'bias_hh_l0'"):
        ours.load_state_dict(missing)
    with pytest.raises(ValueError, match=r"'weight_hh_l0'.*\(3, 4\).*\(3, 3\)"):
        ours.load_state_dict(
            dict(state, weight_hh_l0=np.zeros((3, 4), np.float32))
        )
    with pytest.raises(ValueError, match=r"unexpected.*'weight_ih_l1'"):
        ours.load_state_dict(
            dict(state, weight_ih_l1=np.zeros((3, 3), np.float32))
        )


def test_rnn_rejects_bad_input_with_messages_naming_the_expected_shape():
    ours = RNN(2, 3, seed=0)
    with pytest.raises(
        ValueError, match=r"\(T, B, D\).*input_size=2.*\(4, 5\)"
    ):
        ours(np.zeros((4, 5), np.float32))
    with pytest.raises(ValueError, match=r"float64.*float32"):
        ours(np.zeros((4, 2)))
    with pytest.raises(ValueError, match=r"h0.*\(1, 6, 3\)"):
        ours(np.zeros((4, 6, 2), np.float32), np.zeros((6, 3), np.float32))
    with pytest.raises(ValueError, match=r"D=2, H=3"):
        rnn_step(
            np.zeros(2), np.zeros(4), *RNN(2, 3, dtype=np.float64).parameters()
        )
    with pytest.raises(ValueError, match=r"weight_hh \(H, H\)"):
        bad = (np.zeros((3, 2)), np.zeros((2, 2)), np.zeros(3), np.zeros(3))
        rnn_step(np.zeros(2), np.zeros(3), *bad)


# ------------------------------------------------------------------------------
# RNN Jacobians
# ------------------------------------------------------------------------------


def torch_rnn_final_state(p, x, T):
    """h0 -> h_T with torch's RNN cell, as a function for autograd."""

    def final_state(h0):
        h = h0
        for t in range(T):
            h = torch.tanh(
                p["weight_ih"] @ x[t]
                + p["bias_ih"]
                + p["weight_hh"] @ h
                + p["bias_hh"]
            )
        return h

    return final_state


def test_rnn_step_jacobian_matches_autograd():
    H = 5
    weight_hh = random_array((H, H), seed=1)
    pre = random_array(H, seed=2)  # W x + b, fixed
    h_prev = random_array(H, seed=3, scale=0.5)
    h_new = np.tanh(pre + weight_hh @ h_prev)
    expected = jacobian(
        lambda h: torch.tanh(
            torch.from_numpy(pre) + torch.from_numpy(weight_hh) @ h
        ),
        torch.from_numpy(h_prev),
    )
    np.testing.assert_allclose(
        rnn_step_jacobian(h_new, weight_hh), expected.numpy(), atol=1e-12
    )


def test_products_of_rnn_step_jacobians_match_autograd_for_every_length():
    T, D, H = 12, 3, 6
    torch.manual_seed(0)
    p = {k: v.double() for k, v in torch.nn.RNNCell(D, H).state_dict().items()}
    x = random_array((T, D), seed=1)
    h0 = random_array(H, seed=2, scale=0.5)
    weights = [
        p[k].numpy() for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
    ]
    products = cumulative_products(rnn_state_jacobians(x, h0, *weights))
    assert products.shape == (T, H, H)
    for steps in (1, 2, 7, T):
        expected = jacobian(
            torch_rnn_final_state(p, torch.from_numpy(x), steps),
            torch.from_numpy(h0),
        )
        np.testing.assert_allclose(
            products[steps - 1], expected.numpy(), atol=1e-12
        )


def test_orthogonal_recurrence_without_input_keeps_norm_scale_to_the_power_k():
    # h stays at 0, so tanh' = 1 and d h_k / d h_0 is the k-th power of U,
    # scale^k times the k-th power of Q, of norm scale^k exactly.
    H, T, scale = 8, 20, 0.9
    U = scale * orthogonal_matrix(H, np.random.default_rng(0))
    zeros = np.zeros(H)
    J = rnn_state_jacobians(
        np.zeros((T, 2)), zeros, np.ones((H, 2)), U, zeros, zeros
    )
    norms = spectral_norms(cumulative_products(J))
    np.testing.assert_allclose(norms, scale ** np.arange(1, T + 1), rtol=1e-12)
    k = 7
    power = np.linalg.matrix_power(U, k)
    np.testing.assert_allclose(cumulative_products(J)[k - 1], power, atol=1e-14)


def test_orthogonal_matrix_is_orthogonal_and_seeded():
    Q = orthogonal_matrix(6, np.random.default_rng(3))
    np.testing.assert_allclose(Q.T @ Q, np.eye(6), atol=1e-12)
    np.testing.assert_array_equal(
        Q, orthogonal_matrix(6, np.random.default_rng(3))
    )
    with pytest.raises(ValueError, match="n must be an integer >= 1"):
        orthogonal_matrix(0, np.random.default_rng(0))


def test_spectral_norms_equal_torch_matrix_norm_2():
    matrices = random_array((4, 5, 3), seed=0)
    expected = torch.linalg.matrix_norm(
        torch.from_numpy(matrices), ord=2
    ).numpy()
    np.testing.assert_allclose(spectral_norms(matrices), expected, rtol=1e-12)
    with pytest.raises(ValueError, match=r"\(\.\.\., m, n\)"):
        spectral_norms(np.ones(3))


def test_cumulative_products_multiply_newest_step_on_the_left():
    J = random_array((3, 4, 4), seed=0)
    P = cumulative_products(J)
    np.testing.assert_allclose(P[0], J[0])
    np.testing.assert_allclose(P[2], J[2] @ J[1] @ J[0], atol=1e-12)
    with pytest.raises(ValueError, match=r"\(T, n, n\)"):
        cumulative_products(np.ones((3, 4, 5)))


def test_jacobian_functions_refuse_batched_sequences():
    H = 3
    weights = [np.zeros((H, 2)), np.zeros((H, H)), np.zeros(H), np.zeros(H)]
    with pytest.raises(ValueError, match=r"one sequence x of shape \(T, D\)"):
        rnn_state_jacobians(np.zeros((4, 2, 2)), np.zeros(H), *weights)
    with pytest.raises(ValueError, match=r"h_new \(H,\)"):
        rnn_step_jacobian(np.zeros((2, H)), np.zeros((H, H)))


# ------------------------------------------------------------------------------
# LSTM Jacobians, against autograd through torch.nn.LSTMCell
# ------------------------------------------------------------------------------


def torch_lstm_cell_and_weights(D, H, forget_bias=0.0):
    torch.manual_seed(0)
    cell = torch.nn.LSTMCell(D, H).double()
    with torch.no_grad():
        cell.bias_ih[H : 2 * H] += forget_bias
    weights = [
        cell.state_dict()[k].numpy()
        for k in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
    ]
    return cell, weights


def torch_lstm_final_state(cell, x, T):
    """(h0, c0) -> (h_T, c_T) with torch.nn.LSTMCell, a function for autograd."""

    def final_state(h0, c0):
        h, c = h0, c0
        for t in range(T):
            h, c = cell(x[t], (h, c))
        return h, c

    return final_state


def stacked_torch_jacobian(cell, x, h0, c0, T):
    """d (h_T, c_T) / d (h_0, c_0) from autograd, as one (2H, 2H) array."""
    blocks = jacobian(
        torch_lstm_final_state(cell, torch.from_numpy(x), T),
        (torch.from_numpy(h0), torch.from_numpy(c0)),
    )
    return np.block([[b.numpy() for b in row] for row in blocks])


def test_lstm_step_jacobian_matches_autograd_through_torch_lstm_cell():
    D, H = 4, 5
    cell, weights = torch_lstm_cell_and_weights(D, H)
    x = random_array((1, D), seed=1)
    h, c = random_array(H, seed=2, scale=0.5), random_array(H, seed=3)
    h_new, c_new, J = lstm_step_jacobian(x[0], h, c, *weights)
    with torch.no_grad():
        h_ref, c_ref = cell(
            torch.from_numpy(x[0]), (torch.from_numpy(h), torch.from_numpy(c))
        )
    np.testing.assert_allclose(h_new, h_ref.numpy(), atol=1e-12)
    np.testing.assert_allclose(c_new, c_ref.numpy(), atol=1e-12)
    assert J.shape == (2 * H, 2 * H)
    np.testing.assert_allclose(
        J, stacked_torch_jacobian(cell, x, h, c, 1), atol=1e-12
    )


@pytest.mark.parametrize("forget_bias", [-2.0, 0.0, 3.0])
def test_products_of_lstm_step_jacobians_match_autograd(forget_bias):
    T, D, H = 10, 3, 4
    cell, weights = torch_lstm_cell_and_weights(D, H, forget_bias)
    x = random_array((T, D), seed=1)
    h0, c0 = random_array(H, seed=2, scale=0.5), random_array(H, seed=3)
    products = cumulative_products(lstm_state_jacobians(x, h0, c0, *weights))
    for steps in (1, 4, T):
        expected = stacked_torch_jacobian(cell, x, h0, c0, steps)
        np.testing.assert_allclose(products[steps - 1], expected, atol=1e-12)


def test_without_recurrent_weights_dc_T_dc_0_is_the_product_of_forget_gates():
    # weight_hh = 0 cuts every path through h_{t-1}: only
    # c_t = f_t * c_{t-1} + ... is left.
    T, D, H = 15, 3, 4
    rng = np.random.default_rng(0)
    weight_ih, bias = (
        rng.standard_normal((4 * H, D)),
        rng.standard_normal(4 * H),
    )
    weight_hh = np.zeros((4 * H, H))
    x = rng.standard_normal((T, D))
    P = cumulative_products(
        lstm_state_jacobians(
            x, np.zeros(H), np.zeros(H), weight_ih, weight_hh, bias
        )
    )
    _, _, gates = lstm_cell_step(
        x, np.zeros((T, H)), np.zeros((T, H)), weight_ih, weight_hh, bias
    )
    # f_t does not depend on the state here: (T, H)
    forget = gates[:, H : 2 * H]
    np.testing.assert_allclose(
        P[-1][H:, H:], np.diag(forget.prod(axis=0)), atol=1e-15
    )


def test_lstm_step_jacobian_refuses_batched_state_and_wrong_weights():
    D, H = 2, 3
    _, weights = torch_lstm_cell_and_weights(D, H)
    with pytest.raises(ValueError, match=r"unbatched x \(D,\)"):
        lstm_step_jacobian(
            np.zeros(D), np.zeros((1, H)), np.zeros((1, H)), *weights
        )
    with pytest.raises(ValueError, match=r"weight_hh \(4H, H\)"):
        lstm_step_jacobian(
            np.zeros(D), np.zeros(H), np.zeros(H), weights[0], weights[0]
        )
    with pytest.raises(ValueError, match=r"bias_ih of shape \(4H,\)"):
        lstm_step_jacobian(
            np.zeros(D), np.zeros(H), np.zeros(H), *weights[:2], np.zeros(H)
        )


# ------------------------------------------------------------------------------
# Bad input: what the bad-input harness (test_bad_input_numpy.py) cannot express
# ------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", ["float64", torch.float64, np.int64])
def test_rnn_dtype_given_as_a_string_a_torch_dtype_or_an_int_type_is_refused(
    dtype,
):
    with pytest.raises(
        ValueError, match=r"dtype must be np.float32 or np.float64"
    ):
        RNN(2, 3, dtype=dtype)


def test_rnn_refuses_an_initial_state_of_another_batch_size_instead_of_broadcasting():
    ours = RNN(2, 3, seed=0)
    with pytest.raises(
        ValueError, match=r"h0 of shape \(1, 4, 3\).*batch = 4 as in x"
    ):
        ours(np.zeros((5, 4, 2), np.float32), np.zeros((1, 1, 3), np.float32))


def test_jacobian_functions_refuse_a_mix_of_float_dtypes_instead_of_promoting():
    H = 3
    weights = [np.zeros((H, 2)), np.zeros((H, H)), np.zeros(H), np.zeros(H)]
    with pytest.raises(
        TypeError, match=r"h0 has dtype float64 but x is float32"
    ):
        rnn_state_jacobians(np.zeros((4, 2), np.float32), np.zeros(H), *weights)
    with pytest.raises(
        TypeError, match=r"weight_hh has dtype float32 but h_new is float64"
    ):
        rnn_step_jacobian(np.zeros(H), np.zeros((H, H), np.float32))
    lstm_weights = [np.zeros((4 * H, 2)), np.zeros((4 * H, H), np.float32)]
    with pytest.raises(
        TypeError, match=r"weight_hh has dtype float32 but x is float64"
    ):
        lstm_step_jacobian(np.zeros(2), np.zeros(H), np.zeros(H), *lstm_weights)


def test_state_jacobians_refuse_states_that_do_not_fit_the_weights():
    H = 3
    weights = [np.zeros((H, 2)), np.zeros((H, H)), np.zeros(H), np.zeros(H)]
    with pytest.raises(ValueError, match=r"h0 must have shape \(H,\) = \(3,\)"):
        rnn_state_jacobians(np.zeros((4, 2)), np.zeros(H + 1), *weights)
    lstm_weights = [np.zeros((4 * H, 2)), np.zeros((4 * H, H))]
    with pytest.raises(ValueError, match=r"c0 must have shape \(H,\) = \(3,\)"):
        lstm_state_jacobians(
            np.zeros((4, 2)), np.zeros(H), np.zeros(H - 1), *lstm_weights
        )


def test_nan_is_refused_by_name_instead_of_failing_inside_the_svd_or_spreading():
    with pytest.raises(ValueError, match=r"matrices must hold finite numbers"):
        spectral_norms(np.full((2, 3, 3), np.nan))
    H = 3
    weights = [
        np.zeros((H, 2)),
        np.full((H, H), np.inf),
        np.zeros(H),
        np.zeros(H),
    ]
    with pytest.raises(ValueError, match=r"weight_hh must hold finite numbers"):
        rnn_state_jacobians(np.zeros((4, 2)), np.zeros(H), *weights)
    with pytest.raises(
        ValueError, match=r"step_jacobians must hold finite numbers"
    ):
        cumulative_products(np.full((2, 3, 3), np.nan))


def test_rnn_step_refuses_a_missing_bias_and_an_empty_batch():
    weights = RNN(2, 3, dtype=np.float64, seed=0).parameters()
    with pytest.raises(
        TypeError, match=r"bias_hh must be a NumPy array, got None"
    ):
        rnn_step(np.zeros(2), np.zeros(3), *weights[:3], None)
    with pytest.raises(ValueError, match=r"B >= 1"):
        rnn_step(np.zeros((0, 2)), np.zeros((0, 3)), *weights)
