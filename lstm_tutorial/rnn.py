"""A plain recurrent network in NumPy, and how fast its memory fades.

Part I, chapters "From RNN to LSTM" (the RNN, its Jacobians) and "Memory
that lasts" (the LSTM's Jacobians). The Elman RNN computes, at every step,

    h_t = tanh(W x_t + b_ih + U h_{t-1} + b_hh),

with PyTorch's names and shapes: ``weight_ih`` is W, (H, D); ``weight_hh``
is U, (H, H); ``bias_ih`` and ``bias_hh`` are (H,). :class:`RNN` is one
layer of ``torch.nn.RNN(nonlinearity="tanh")`` and loads its ``state_dict``.

The rest measures memory with Jacobians. How much the state at step 0 still
acts on the state at step T is d h_T / d h_0 for the RNN and d c_T / d c_0
for the LSTM. By the chain rule both are products of one Jacobian per step,
computed here in closed form:

- :func:`rnn_step_jacobian`, :func:`rnn_state_jacobians`: d h_t / d h_{t-1};
- :func:`lstm_step_jacobian`, :func:`lstm_state_jacobians`:
  d (h_t, c_t) / d (h_{t-1}, c_{t-1});
- :func:`cumulative_products`: the products J_t ... J_1 for t = 1..T;
- :func:`spectral_norms`: their largest singular values.

The Jacobian functions take one sequence (no batch axis): a Jacobian belongs
to one example. Every line of this module, docstrings included, fits in 80
columns, the width of the book's code blocks, so that any function of it can
be shown (a test checks it).

Checks. Every public function and :class:`RNN` check their arguments before
computing (with :mod:`lstm_tutorial.checks`; the error names the argument):
arrays must be NumPy arrays of one float dtype (float32 or float64; a list,
a tensor or a mix of dtypes is refused, nothing is cast), of the shapes
above, with T, D, H >= 1. The entry points ``RNN``, ``rnn_state_jacobians``,
``lstm_state_jacobians``, ``cumulative_products``, ``spectral_norms`` also
refuse NaN and inf. The step functions the book shows (``rnn_step``,
``rnn_step_jacobian``, ``lstm_step_jacobian``) check types, dtypes and
shapes in one line at the top, but not NaN: they run at every step.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from lstm_tutorial import checks
from lstm_tutorial.numpy_lstm import (
    _check_state,
    _float_array,
    _Parameters,
    _rng_from,
    lstm_cell_step,
    split_gates,
)

_PARAMETER_NAMES = ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0")


# ----------------------------------------------------------------------------
# The RNN cell and one-layer network
# ----------------------------------------------------------------------------


def rnn_step(
    x: np.ndarray,
    h: np.ndarray,
    weight_ih: np.ndarray,
    weight_hh: np.ndarray,
    bias_ih: np.ndarray,
    bias_hh: np.ndarray,
) -> np.ndarray:
    """One RNN step: h_t = tanh(W x_t + b_ih + U h_{t-1} + b_hh).

    x: (B, D) or unbatched (D,); h: (B, H) or (H,), same leading shape as x;
    weight_ih: (H, D); weight_hh: (H, H); bias_ih, bias_hh: (H,).
    All arrays of one float dtype; h_t is shaped like h, in that dtype.
    """
    _check_rnn_step(x, h, weight_ih, weight_hh, bias_ih, bias_hh)
    # x @ W.T is W x_t for every row (example) of x at once: (B, H)
    return np.tanh(x @ weight_ih.T + bias_ih + h @ weight_hh.T + bias_hh)


class RNN(_Parameters):
    """One layer of ``torch.nn.RNN(input_size, hidden_size)`` (tanh) in NumPy.

    Parameters have torch's names and shapes: ``weight_ih_l0`` (H, D),
    ``weight_hh_l0`` (H, H), ``bias_ih_l0`` and ``bias_hh_l0`` (H,), all of
    ``dtype`` (float32, torch's default, or float64). They start uniform on
    [-1/sqrt(H), 1/sqrt(H)], as in torch, drawn from ``seed`` (an int) or
    ``rng`` (a ``np.random.Generator``). ``state_dict`` and
    ``load_state_dict`` (which accepts a torch state_dict) are the LSTM's.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        dtype: type = np.float32,
        seed: int | None = None,
        rng: np.random.Generator | None = None,
    ) -> None:
        self.input_size = checks.positive_int("input_size", input_size)
        self.hidden_size = checks.positive_int("hidden_size", hidden_size)
        self.dtype = checks.numpy_float_dtype("dtype", dtype)
        rng = _rng_from(seed, rng)
        D, H = self.input_size, self.hidden_size
        shapes = [(H, D), (H, H), (H,), (H,)]
        self._shapes = dict(zip(_PARAMETER_NAMES, shapes, strict=True))
        self._init_parameters(rng)

    def __repr__(self) -> str:
        extra = "" if self.dtype == np.float32 else f", dtype={self.dtype}"
        return f"RNN({self.input_size}, {self.hidden_size}{extra})"

    def __call__(
        self, x: np.ndarray, h0: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Run over a sequence, like ``torch.nn.RNN`` (``batch_first=False``).

        x: (T, B, D), or unbatched (T, D), of the model's dtype. h0: (1, B, H),
        or (1, H) for unbatched x; zeros if None. Returns ``(output, h_n)``:
        output (T, B, H) or (T, H) holds h_1 .. h_T; h_n is h_T, shaped as h0.
        """
        x, h, unbatched = self._batched(x, h0)  # x: (T, B, D), h: (B, H)
        T, B, H = x.shape[0], x.shape[1], self.hidden_size
        output = np.empty((T, B, H), self.dtype)
        for t, x_t in enumerate(x):
            h = rnn_step(x_t, h, *self.parameters())
            output[t] = h
        if unbatched:
            return output[:, 0], h  # (T, H), (1, H)
        return output, h[None]  # (T, B, H), (1, B, H)

    def _batched(self, x, h0):
        """Checked x as (T, B, D), h0 as (B, H), and whether x is unbatched."""
        x = _float_array("x", x, self.dtype)
        D = self.input_size
        if x.ndim not in (2, 3) or x.shape[-1] != D or 0 in x.shape:
            raise ValueError(
                "expected x of shape (T, B, D) or unbatched (T, D), T and B "
                f">= 1, D = input_size={D}; got shape {x.shape}"
            )
        checks.array("x", x, finite=True)
        unbatched = x.ndim == 2
        if unbatched:
            x = x[:, None]  # (T, 1, D)
        B, H = x.shape[1], self.hidden_size
        if h0 is None:
            return x, np.zeros((B, H), self.dtype), unbatched
        expected = (1, H) if unbatched else (1, B, H)
        layout = (
            "(1, hidden_size) for unbatched x"
            if unbatched
            else f"(1, batch, hidden_size), batch = {B} as in x"
        )
        _check_state("h0", h0, self.dtype, expected, layout)
        return x, h0.reshape(B, H), unbatched


# ----------------------------------------------------------------------------
# Jacobians: how the state at step 0 acts on the state at step t
# ----------------------------------------------------------------------------


def rnn_step_jacobian(
    h_new: np.ndarray,
    weight_hh: np.ndarray,
) -> np.ndarray:
    """d h_t / d h_{t-1} = diag(1 - h_t^2) U, for one RNN step.

    h_new: the state h_t that the step produced, (H,); weight_hh: U, (H, H).
    Returns (H, H), entry [j, k] = d h_t[j] / d h_{t-1}[k], dtype of h_new.
    Since tanh' = 1 - tanh^2, the step's own output is all it needs.
    """
    _check_rnn_step_jacobian(h_new, weight_hh)
    return (1.0 - h_new**2)[:, None] * weight_hh  # row j times 1 - h_t[j]^2


def rnn_state_jacobians(
    x: np.ndarray,
    h0: np.ndarray,
    weight_ih: np.ndarray,
    weight_hh: np.ndarray,
    bias_ih: np.ndarray,
    bias_hh: np.ndarray,
) -> np.ndarray:
    """Run the RNN over one sequence and return every step's Jacobian.

    x: (T, D), one sequence; h0: (H,); weights as in :func:`rnn_step`.
    Returns J, (T, H, H), with J[t - 1] = d h_t / d h_{t-1}; then
    ``cumulative_products(J)[T - 1]`` is d h_T / d h_0.
    """
    _check_sequence(x, h0, weight_hh)
    _check_rnn_step(x[0], h0, weight_ih, weight_hh, bias_ih, bias_hh)
    _check_finite(weight_ih=weight_ih, weight_hh=weight_hh)
    _check_finite(bias_ih=bias_ih, bias_hh=bias_hh)
    T, H = x.shape[0], h0.shape[0]
    jacobians = np.empty((T, H, H), np.result_type(x, h0, weight_hh))
    h = h0
    for t, x_t in enumerate(x):
        h = rnn_step(x_t, h, weight_ih, weight_hh, bias_ih, bias_hh)
        jacobians[t] = rnn_step_jacobian(h, weight_hh)
    return jacobians


def lstm_step_jacobian(
    x: np.ndarray,
    h: np.ndarray,
    c: np.ndarray,
    weight_ih: np.ndarray,
    weight_hh: np.ndarray,
    bias_ih: np.ndarray | None = None,
    bias_hh: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One LSTM step and its Jacobian with respect to the previous state.

    x: (D,); h, c: (H,); weights in torch's layout (gates i, f, g, o):
    weight_ih (4H, D), weight_hh (4H, H), bias_ih and bias_hh (4H,) or None.
    Returns (h_t, c_t, J), J of shape (2H, 2H) for the stacked state (h, c):

        J = [[d h_t / d h_{t-1},  d h_t / d c_{t-1}],
             [d c_t / d h_{t-1},  d c_t / d c_{t-1}]]
    """
    _check_lstm_step(x, h, c, weight_ih, weight_hh, bias_ih, bias_hh)
    weights = (weight_ih, weight_hh, bias_ih, bias_hh)
    h_new, c_new, gates = lstm_cell_step(x, h, c, *weights)
    i, f, g, o = split_gates(gates)  # each (H,)
    U_i, U_f, U_g, U_o = np.split(weight_hh, 4)  # each (H, H)

    # Each gate depends on h_{t-1} through its pre-activation U_* h_{t-1}:
    # d gate / d h_{t-1} = diag(activation') U_*,
    # with sigma' = sigma (1 - sigma) and tanh' = 1 - tanh^2.
    di_dh = (i * (1 - i))[:, None] * U_i
    df_dh = (f * (1 - f))[:, None] * U_f
    dg_dh = (1 - g**2)[:, None] * U_g
    do_dh = (o * (1 - o))[:, None] * U_o

    # c_t = f * c_{t-1} + i * g: the product rule, plus the direct path f.
    dc_dh = c[:, None] * df_dh + g[:, None] * di_dh + i[:, None] * dg_dh
    dc_dc = np.diag(f)

    # h_t = o * tanh(c_t): through o, and through c_t (both of its paths).
    tanh_c = np.tanh(c_new)
    dh_dcnew = o * (1 - tanh_c**2)  # d h_t / d c_t is diagonal: (H,)
    dh_dh = tanh_c[:, None] * do_dh + dh_dcnew[:, None] * dc_dh
    dh_dc = dh_dcnew[:, None] * dc_dc

    return h_new, c_new, np.block([[dh_dh, dh_dc], [dc_dh, dc_dc]])


def lstm_state_jacobians(
    x: np.ndarray,
    h0: np.ndarray,
    c0: np.ndarray,
    weight_ih: np.ndarray,
    weight_hh: np.ndarray,
    bias_ih: np.ndarray | None = None,
    bias_hh: np.ndarray | None = None,
) -> np.ndarray:
    """Run an LSTM cell over one sequence; return every step's Jacobian.

    x: (T, D); h0, c0: (H,); weights as in :func:`lstm_step_jacobian`.
    Returns J, (T, 2H, 2H), J[t - 1] = d (h_t, c_t) / d (h_{t-1}, c_{t-1}).
    The block ``cumulative_products(J)[T - 1][H:, H:]`` is d c_T / d c_0.
    """
    _check_sequence(x, h0, weight_hh, c0=c0)
    _check_lstm_step(x[0], h0, c0, weight_ih, weight_hh, bias_ih, bias_hh)
    _check_finite(c0=c0, weight_ih=weight_ih, weight_hh=weight_hh)
    _check_finite(bias_ih=bias_ih, bias_hh=bias_hh)
    T, H = x.shape[0], h0.shape[0]
    dtype = np.result_type(x, h0, c0, weight_hh)
    jacobians = np.empty((T, 2 * H, 2 * H), dtype)
    weights = (weight_ih, weight_hh, bias_ih, bias_hh)
    h, c = h0, c0
    for t, x_t in enumerate(x):
        h, c, jacobians[t] = lstm_step_jacobian(x_t, h, c, *weights)
    return jacobians


def cumulative_products(step_jacobians: np.ndarray) -> np.ndarray:
    """The chain rule over time: P_t = J_t J_{t-1} ... J_1, t = 1 .. T.

    step_jacobians: (T, n, n), J_t = d s_t / d s_{t-1}. Returns (T, n, n)
    with P[t - 1] = d s_t / d s_0, in the input's dtype.
    """
    _check_square_stack(step_jacobians)
    products = np.empty_like(step_jacobians)  # (T, n, n)
    n = step_jacobians.shape[1]
    product = np.eye(n, dtype=step_jacobians.dtype)
    for t, jacobian in enumerate(step_jacobians):
        product = jacobian @ product  # newest step multiplies on the left
        products[t] = product
    return products


def spectral_norms(matrices: np.ndarray) -> np.ndarray:
    """Largest singular value of each matrix: how far it stretches a vector.

    matrices: (..., m, n). Returns (...,). For a Jacobian d s_T / d s_0 it's
    the largest factor by which a small change of s_0, in any direction,
    reaches s_T: |d s_T| <= norm * |d s_0|, with equality for one direction.
    """
    matrices = _float_array("matrices", matrices, finite=True)
    if matrices.ndim < 2 or 0 in matrices.shape:
        expected = "matrices must have shape (..., m, n) with no empty axis"
        raise ValueError(f"{expected}, got {matrices.shape}")
    # singular values come sorted, largest first
    return np.linalg.svd(matrices, compute_uv=False)[..., 0]


def orthogonal_matrix(n: int, rng: np.random.Generator) -> np.ndarray:
    """A random orthogonal matrix Q (n, n), float64: Q.T @ Q = I.

    QR decomposition of a Gaussian matrix, with the signs of R's diagonal
    moved into Q, so that Q is uniformly distributed over the orthogonal
    matrices.
    """
    n = checks.positive_int("n", n)
    rng = checks.rng("rng", rng)
    q, r = np.linalg.qr(rng.standard_normal((n, n)))
    return q * np.sign(np.diag(r))  # flips column k when R[k, k] < 0


# ----------------------------------------------------------------------------
# Input checks
# ----------------------------------------------------------------------------


def _arrays(
    of: str,
    first: Any,
    *,
    optional: tuple[str, ...] = (),
    **others: Any,
) -> np.dtype:
    """Check that ``first`` (named ``of``) and every array of ``others`` are
    float NumPy arrays of one dtype (those named in ``optional`` may be None);
    return the dtype."""
    dtype = _float_array(of, first).dtype
    for name, value in others.items():
        if value is not None or name not in optional:
            _float_array(name, value, dtype, of)
    return dtype


def _check_finite(**arrays: Any) -> None:
    for name, value in arrays.items():
        if value is not None:
            checks.array(name, value, nonempty=False, finite=True)


def _check_rnn_step(x, h, weight_ih, weight_hh, bias_ih, bias_hh) -> None:
    _arrays(
        "x", x, h=h, weight_ih=weight_ih, weight_hh=weight_hh,
        bias_ih=bias_ih, bias_hh=bias_hh,
    )  # fmt: skip
    H, D = weight_ih.shape if weight_ih.ndim == 2 else (None, None)
    shapes = (weight_hh.shape, bias_ih.shape, bias_hh.shape)
    if H is None or 0 in (H, D) or shapes != ((H, H), (H,), (H,)):
        raise ValueError(
            "expected weight_ih (H, D), weight_hh (H, H), bias_ih (H,), "
            f"bias_hh (H,) with H, D >= 1; got {weight_ih.shape}, "
            f"{', '.join(map(str, shapes))}"
        )
    fits = x.ndim in (1, 2) and x.shape[-1] == D and x.size > 0
    if not fits or h.shape != (*x.shape[:-1], H):
        got = f"got x {x.shape} and h {h.shape}"
        raise ValueError(
            f"expected x (B, D) or (D,) and h (B, H) or (H,) with D={D}, "
            f"H={H}, B >= 1; {got}"
        )


def _check_rnn_step_jacobian(h_new, weight_hh) -> None:
    _arrays("h_new", h_new, weight_hh=weight_hh)
    H = h_new.shape[0] if h_new.ndim == 1 else None
    if weight_hh.shape != (H, H) or H == 0:
        got = f"got {h_new.shape} and {weight_hh.shape}"
        raise ValueError(
            f"expected h_new (H,) and weight_hh (H, H) with H >= 1, {got}"
        )


def _check_square_stack(step_jacobians) -> None:
    _float_array("step_jacobians", step_jacobians, finite=True)
    shape = step_jacobians.shape
    if len(shape) != 3 or shape[1] != shape[2] or 0 in shape:
        expected = "step_jacobians must have shape (T, n, n) with T, n >= 1"
        raise ValueError(f"{expected}, got {shape}")


def _check_sequence(x, h0, weight_hh, **cell) -> None:
    """One sequence x (T, D), its initial state h0 (and the LSTM's c0, in
    ``cell``) (H,), with the H of weight_hh ((H, H) or (4H, H)), finite."""
    _arrays("x", x, h0=h0, weight_hh=weight_hh, **cell)
    if x.ndim != 2 or 0 in x.shape or h0.ndim != 1 or h0.size == 0:
        raise ValueError(
            "expected one sequence x of shape (T, D) with T, D >= 1 and a "
            f"state h0 of shape (H,), H >= 1; got x {x.shape} and h0 "
            f"{h0.shape} (Jacobians are computed one sequence at a time)"
        )
    H = weight_hh.shape[-1]
    for name, state in {"h0": h0, **cell}.items():
        if state.shape != (H,):
            raise ValueError(
                f"{name} must have shape (H,) = ({H},) for the H of weight_hh "
                f"{weight_hh.shape}, got {state.shape}"
            )
    _check_finite(x=x, h0=h0, **cell)


def _check_lstm_step(x, h, c, weight_ih, weight_hh, bias_ih, bias_hh) -> None:
    _arrays(
        "x", x, h=h, c=c, weight_ih=weight_ih, weight_hh=weight_hh,
        bias_ih=bias_ih, bias_hh=bias_hh, optional=("bias_ih", "bias_hh"),
    )  # fmt: skip
    H = h.shape[0] if h.ndim == 1 else None
    if H is None or c.shape != (H,) or x.ndim != 1 or 0 in (H, x.size):
        raise ValueError(
            f"expected unbatched x (D,), h (H,) and c (H,) with D, H >= 1; "
            f"got {x.shape}, {h.shape}, {c.shape}"
        )
    if weight_ih.shape != (4 * H, x.size) or weight_hh.shape != (4 * H, H):
        raise ValueError(
            f"expected weight_ih (4H, D) = {(4 * H, x.size)} and weight_hh "
            f"(4H, H) = {(4 * H, H)} for x {x.shape} and h {h.shape}; got "
            f"{weight_ih.shape} and {weight_hh.shape}"
        )
    for name, bias in (("bias_ih", bias_ih), ("bias_hh", bias_hh)):
        if bias is not None and bias.shape != (4 * H,):
            expected = f"expected {name} of shape (4H,) = {(4 * H,)}"
            raise ValueError(f"{expected}, got {bias.shape}")
