"""Backpropagation through time (BPTT) for the NumPy LSTM of ``numpy_lstm``.

Part II, chapter "Backpropagation through time". Read it top to bottom:

1. ``lstm_cell_step_backward``: the chain rule through one step of the cell,
   one line per equation, from dL/dh_t back to dL/dh_{t-1} and dL/dc_{t-1}.
2. ``lstm_layer_backward``: one layer over a whole sequence. The step runs T
   times, last step first; the weight and input gradients, which need no
   recurrence, are then three matrix products over all T steps at once.
3. ``lstm_backward``: the whole stack after ``LSTM.forward``: the gradients
   of every parameter (``model.grads``), of the initial state
   (``model.grad_hx``) and of the input (returned).
4. ``clip_grad_norm``: rescale all gradients together when their global
   norm is too large, like ``torch.nn.utils.clip_grad_norm_``.
5. ``backpropagate_through_jacobians``: the same chain rule written with
   explicit step Jacobians (those of ``lstm_tutorial.rnn``), to compare an
   LSTM's gradients with a plain RNN's.
6. ``finite_difference``: the slope of a loss along one entry of an array,
   the idea behind ``gradcheck.check_gradients`` (chapter "Checking
   gradients").

Names follow the maths: for any quantity ``v`` of the forward pass, ``dv``
is dL/dv, the gradient of the scalar loss L (a script L in the book, where
a plain L is the number of layers) with respect to v; it has v's shape.
``z`` is a pre-activation: i_t = sigmoid(z_i), g_t = tanh(z_g), ...,
with z_t = x_t W^T + h_{t-1} U^T + b for the four gates stacked, (B, 4H).
B is the batch size, T the number of steps, D the input size, H the hidden
size. Everything stays in the model's dtype (float32 or float64). Lines of
the functions the book displays are at most 80 characters long, docstrings
included (a test checks it).

Checks. ``lstm_layer_backward``, ``lstm_backward`` (and ``LSTM.backward``),
``clip_grad_norm``, ``backpropagate_through_jacobians`` and
``finite_difference`` check their arguments before computing, with
:mod:`lstm_tutorial.checks`, and the error names the argument: gradients
must be NumPy arrays of exactly the forward pass's shapes and dtype (a list,
a tensor or another dtype is refused, never cast), ``max_norm`` and ``eps``
finite numbers > 0, indices tuples of integers inside the array. Gradients
may hold NaN or inf (a diverged loss): they flow through, and the training
loop reports the divergence; ``clip_grad_norm`` refuses them. The one-step
teaching function ``lstm_cell_step_backward`` is unchecked: it is reached
through ``lstm_layer_backward``, which checks first.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from lstm_tutorial import checks
from lstm_tutorial.gradcheck import _returned_number
from lstm_tutorial.numpy_lstm import (
    LSTM,
    Array,
    LayerCache,
    _check_weights,
    _float_array,
    register_backward,
    split_gates,
)

# ----------------------------------------------------------------------------
# 1. One step of the cell, backwards
# ----------------------------------------------------------------------------


def lstm_cell_step_backward(
    dh: Array,
    dc_carried: Array,
    i: Array,
    f: Array,
    g: Array,
    o: Array,
    c_prev: Array,
    tanh_c: Array,
    weight_hh: Array,
    dz: Array | None = None,
) -> tuple[Array, Array, Array, Array]:
    """Backpropagate through one step of the LSTM cell.

    dh: dL/dh_t, all of it (from the layer above and from step t + 1),
        (B, H).
    dc_carried: the part of dL/dc_t that comes back along the cell state
        from step t + 1, that is f_{t+1} * dc_{t+1} (at the last step:
        dL/dc_T from outside the sequence, or zeros), (B, H).
    i, f, g, o: the gates of step t, each (B, H).
    c_prev: c_{t-1}, (B, H).  tanh_c: tanh(c_t), (B, H).
    weight_hh: U, the four gates' recurrent weights, (4H, H), PyTorch's
        layout (row blocks i, f, g, o).
    dz: optional array (B, 4H) that receives dL/dz_t (it is also returned).

    Returns ``(dc, dz, dh_prev, dc_prev)``, all in the dtype of the inputs:
    dc = dL/dc_t, all of it, (B, H); dz = dL/dz_t, the gradient of the four
    pre-activations, (B, 4H), gates in PyTorch's order i, f, g, o; and what
    step t hands back to step t - 1: dh_prev, the part of dL/dh_{t-1} that
    flows through the gates' recurrent weights, (B, H), and
    dc_prev = f_t * dc, the part of dL/dc_{t-1} carried by the cell state.
    """
    # h_t = o_t * tanh(c_t): the gradient splits between o_t and c_t
    do = dh * tanh_c
    dc = dc_carried + dh * o * (1 - tanh_c**2)  # tanh' = 1 - tanh^2
    # c_t = f_t * c_{t-1} + i_t * g_t
    df = dc * c_prev
    di = dc * g
    dg = dc * i
    dc_prev = dc * f  # the highway: no matrix, no squashing
    # through the activations: sigmoid' = s (1 - s), tanh' = 1 - tanh^2
    if dz is None:
        dz = np.empty((*dh.shape[:-1], 4 * dh.shape[-1]), dh.dtype)
    dz_i, dz_f, dz_g, dz_o = split_gates(dz)  # views, each (B, H)
    dz_i[...] = di * i * (1 - i)
    dz_f[...] = df * f * (1 - f)
    dz_g[...] = dg * (1 - g**2)
    dz_o[...] = do * o * (1 - o)
    # z_t = x_t W^T + h_{t-1} U^T + b: h_{t-1} feeds all four gates
    dh_prev = dz @ weight_hh  # (B, 4H) @ (4H, H)
    return dc, dz, dh_prev, dc_prev


# ----------------------------------------------------------------------------
# 2. One layer over a whole sequence
# ----------------------------------------------------------------------------


@dataclass
class LayerGrads:
    """The gradients of one layer, from ``lstm_layer_backward``.

    Time-major and batched, like ``LayerCache``; weights in PyTorch's layout.

    - ``x``: (T, B, D_k), dL/dx_t, the gradient of the layer's input.
    - ``h0``, ``c0``: (B, H), dL/dh_0 and dL/dc_0.
    - ``weight_ih``: (4H, D_k) and ``weight_hh``: (4H, H), dL/dW and dL/dU.
    - ``bias``: (4H,), the gradient of ``bias_ih`` and of ``bias_hh`` alike
      (both enter only through their sum b).
    - ``h``, ``c``: (T, B, H), dL/dh_t and dL/dc_t for t = 1 .. T, all of
      it: how much of the loss's gradient reaches each state. dL/dc_t
      counts both of c_t's paths, into h_t = o_t * tanh(c_t) and into
      c_{t+1}; the part handed back along the cell state is f_t * dL/dc_t.
    """

    x: Array
    h0: Array
    c0: Array
    weight_ih: Array
    weight_hh: Array
    bias: Array
    h: Array
    c: Array


#: The signature of ``lstm_cell_step_backward``, which a caller may replace.
StepBackward = Callable[..., tuple[Array, Array, Array, Array]]


def lstm_layer_backward(
    cache: LayerCache,
    weight_ih: Array,
    weight_hh: Array,
    dh_out: Array,
    dh_n: Array | None = None,
    dc_n: Array | None = None,
    *,
    step: StepBackward = lstm_cell_step_backward,
) -> LayerGrads:
    """Backpropagate through one LSTM layer over its whole sequence.

    cache: the layer's ``LayerCache`` from ``lstm_layer_forward``.
    weight_ih: W, (4H, D_k); weight_hh: U, (4H, H): the weights of that
        forward pass, PyTorch's layout.
    dh_out: (T, B, H), dL/dh_t from above: the gradient of the layer's
        output (the loss, or the layer above).
    dh_n, dc_n: (B, H), dL/dh_T and dL/dc_T from outside the sequence
        (for the final states h_n, c_n); None means zeros.
    step: the per-step function, ``lstm_cell_step_backward``; it must write
        dz into the array it is given. Replaced only to experiment (the
        chapter on checking gradients plants a bug this way).

    Returns a ``LayerGrads``; all arrays in the dtype of the cache.
    """
    _check_layer(cache, weight_ih, weight_hh, dh_out, dh_n, dc_n, step)
    x, h, c = cache.x, cache.h, cache.c  # (T, B, D_k), (T, B, H), (T, B, H)
    T, B, H = h.shape
    i, f, o, g = cache.gates  # packed order in the cache; each (T, B, H)
    tanh_c = np.tanh(c)
    c_prev = np.concatenate([cache.c0[None], c[:-1]])  # c_{t-1}, (T, B, H)
    h_prev = np.concatenate([cache.h0[None], h[:-1]])  # h_{t-1}, (T, B, H)

    dz = np.empty((T, B, 4 * H), h.dtype)  # dL/dz_t, gates i, f, g, o
    dh_all, dc_all = np.empty_like(h), np.empty_like(c)
    dh_next = np.zeros_like(h[0]) if dh_n is None else dh_n
    dc_carried = np.zeros_like(c[0]) if dc_n is None else dc_n
    for t in reversed(range(T)):
        # dL/dh_t: from above, plus from step t + 1 through U
        dh = np.add(dh_out[t], dh_next, out=dh_all[t])
        gates_t = (i[t], f[t], g[t], o[t])
        states_t = (c_prev[t], tanh_c[t])
        dc_all[t], _, dh_next, dc_carried = step(
            dh, dc_carried, *gates_t, *states_t, weight_hh, dz=dz[t]
        )

    # Hoisted out of the loop: sums over t as products over all T*B rows.
    dz_rows = dz.reshape(T * B, 4 * H)
    return LayerGrads(
        x=(dz_rows @ weight_ih).reshape(T, B, -1),  # dx_t = dz_t W
        h0=dh_next,
        c0=dc_carried,
        weight_ih=dz_rows.T @ x.reshape(T * B, -1),  # sum_t dz_t^T x_t
        weight_hh=dz_rows.T @ h_prev.reshape(T * B, H),  # dz^T h_{t-1}
        bias=dz_rows.sum(axis=0),  # sum_t dz_t
        h=dh_all,
        c=dc_all,
    )


def _check_layer(cache, weight_ih, weight_hh, dh_out, dh_n, dc_n, step) -> None:
    """The arguments of ``lstm_layer_backward``: a ``LayerCache`` whose arrays fit
    together, the weights of its forward pass, dh_out (T, B, H) and dh_n, dc_n
    (B, H) or None, all of the cache's dtype, and a step function."""
    checks.instance(
        "cache", cache, LayerCache, "a LayerCache (from lstm_layer_forward)"
    )
    h = _float_array("cache.h", cache.h)
    if h.ndim != 3 or 0 in h.shape:
        raise ValueError(
            f"cache.h must have shape (T, B, H) with T, B, H >= 1, got {h.shape}"
        )
    T, B, H = h.shape
    of = "the cache"
    x = _float_array("cache.x", cache.x, h.dtype, of)
    if x.ndim != 3 or x.shape[:2] != (T, B) or x.shape[2] == 0:
        raise ValueError(
            f"cache.x must have shape (T, B, D) = ({T}, {B}, D), got {x.shape}"
        )
    expected = {
        "c": (T, B, H),
        "gates": (4, T, B, H),
        "h0": (B, H),
        "c0": (B, H),
    }
    for key, shape in expected.items():
        value = _float_array(f"cache.{key}", getattr(cache, key), h.dtype, of)
        if value.shape != shape:
            raise ValueError(
                f"cache.{key} must have shape {shape}, got {value.shape}"
            )
    _check_weights(
        weight_ih, weight_hh, dtype=h.dtype, of=of, input_size=x.shape[2]
    )
    if weight_hh.shape != (4 * H, H):
        raise ValueError(
            f"weight_hh must have shape (4H, H) = {(4 * H, H)} for the cache's H = {H}, "
            f"got {weight_hh.shape}"
        )
    for name, grad, shape in (
        ("dh_out", dh_out, (T, B, H)),
        ("dh_n", dh_n, (B, H)),
        ("dc_n", dc_n, (B, H)),
    ):
        if grad is None and name != "dh_out":
            continue
        _float_array(name, grad, h.dtype, of)
        if grad.shape != shape:
            raise ValueError(
                f"{name} must have shape {shape} to match the cache's (T, B, H) = "
                f"{(T, B, H)}, got {grad.shape}"
            )
    checks.function("step", step)


# ----------------------------------------------------------------------------
# 3. The whole stack, after LSTM.forward
# ----------------------------------------------------------------------------


def lstm_backward(
    model: LSTM,
    grad_output: Array,
    grad_h_n: Array | None = None,
    grad_c_n: Array | None = None,
    *,
    step: StepBackward = lstm_cell_step_backward,
) -> Array:
    """Backpropagate through the last forward pass of ``model``.

    model: a ``numpy_lstm.LSTM`` that has been called (its forward pass
        keeps what the backward pass needs).
    grad_output: dL/d output, the shape of that call's output: (T, B, H),
        (B, T, H) if ``batch_first``, or (T, H) for unbatched input.
    grad_h_n, grad_c_n: dL/dh_n and dL/dc_n, the shape of h_n and c_n:
        (num_layers, B, H), or (num_layers, H) unbatched; None means zeros.
    All gradients must be NumPy arrays of the model's dtype.
    step: the per-step function; see ``lstm_layer_backward``.

    Returns dL/dx, shaped like the forward input. Sets ``model.grads``, a
    dict with the keys, order, shapes and dtype of ``model.state_dict()``,
    and ``model.grad_hx = (dL/dh_0, dL/dc_0)``, shaped like h_n and c_n.
    """
    checks.instance("model", model, LSTM, "a numpy_lstm.LSTM")
    checks.function("step", step)
    cache = model._cache
    if cache is None:
        raise ValueError(
            "there is no forward pass to backpropagate through: call "
            "model(x) first, then lstm_backward(model, grad_output)"
        )
    T, B, H = cache.layers[-1].h.shape
    L = model.num_layers
    if cache.unbatched:
        out_shape, state_shape = (T, H), (L, H)
    elif cache.batch_first:
        out_shape, state_shape = (B, T, H), (L, B, H)
    else:
        out_shape, state_shape = (T, B, H), (L, B, H)
    dtype = model.dtype
    dh_out = _check_gradient(
        grad_output, "grad_output", out_shape, dtype, optional=False
    )
    dh_n = _check_gradient(grad_h_n, "grad_h_n", state_shape, dtype)
    dc_n = _check_gradient(grad_c_n, "grad_c_n", state_shape, dtype)

    # Everything time-major and batched inside: (T, B, H) and (L, B, H).
    if cache.unbatched:
        dh_out = dh_out[:, None]
        dh_n = None if dh_n is None else dh_n[:, None]
        dc_n = None if dc_n is None else dc_n[:, None]
    elif cache.batch_first:
        dh_out = dh_out.swapaxes(0, 1)

    grads: dict[str, Array] = {}
    dh0 = np.empty((L, B, H), dtype)
    dc0 = np.empty((L, B, H), dtype)
    for k in reversed(range(L)):  # top layer first
        weight_ih, weight_hh, _, _ = model.layer_parameters(k)
        layer = lstm_layer_backward(
            cache.layers[k],
            weight_ih,
            weight_hh,
            dh_out,
            None if dh_n is None else dh_n[k],
            None if dc_n is None else dc_n[k],
            step=step,
        )
        grads[f"weight_ih_l{k}"] = layer.weight_ih
        grads[f"weight_hh_l{k}"] = layer.weight_hh
        if model.bias:
            grads[f"bias_ih_l{k}"] = layer.bias
            grads[f"bias_hh_l{k}"] = layer.bias.copy()
        dh0[k], dc0[k] = layer.h0, layer.c0
        dh_out = layer.x  # the gradient of layer k - 1's output
    model.grads = {name: grads[name] for name, _ in model.named_parameters()}

    dx = dh_out  # (T, B, D)
    if cache.unbatched:
        model.grad_hx = (dh0[:, 0], dc0[:, 0])  # (L, H)
        return dx[:, 0]  # (T, D)
    model.grad_hx = (dh0, dc0)
    if cache.batch_first:
        return np.ascontiguousarray(dx.swapaxes(0, 1))  # (B, T, D)
    return dx


def _check_gradient(
    value: Any,
    name: str,
    shape: tuple[int, ...],
    dtype: np.dtype,
    optional: bool = True,
) -> Array | None:
    """None (if ``optional``), or ``value`` if it is an ndarray of exactly ``shape`` and
    ``dtype``."""
    if value is None and optional:
        return None
    _float_array(name, value, dtype, "the model")
    if value.shape != shape:
        raise ValueError(
            f"{name} must have the shape of the forward pass's "
            f"{_RESULT_NAME[name]}, {shape}, got {value.shape}"
        )
    return value


_RESULT_NAME = {"grad_output": "output", "grad_h_n": "h_n", "grad_c_n": "c_n"}

# LSTM.backward is this function (numpy_lstm does not import this module).
register_backward(lstm_backward)


# ----------------------------------------------------------------------------
# 4. Clipping by global norm
# ----------------------------------------------------------------------------


def clip_grad_norm(grads: Mapping[str, Array], max_norm: float) -> float:
    """Rescale all gradients together so that their global norm <= max_norm.

    grads: name -> gradient array (float32 or float64), modified in place.
    The global norm is sqrt(sum of the squares of every entry of every
    array). If it exceeds ``max_norm``, every array is multiplied by the
    same factor max_norm / (norm + 1e-6), as ``torch.nn.utils.
    clip_grad_norm_`` does: the direction of the whole gradient is kept,
    only its length is capped. Arrays keep their dtype.

    Returns the global norm before clipping, as a Python float.
    """
    _check_clip_arguments(grads, max_norm)
    # sum of squares accumulated in float64, whatever the arrays' dtype
    squares = [np.square(g, dtype=np.float64).sum() for g in grads.values()]
    total_norm = math.sqrt(sum(squares))
    if not math.isfinite(total_norm):
        raise ValueError(
            f"grads hold nan or inf (their global norm is {total_norm}), "
            "which clipping cannot repair"
        )
    scale = max_norm / (total_norm + 1e-6)
    if scale < 1.0:
        for grad in grads.values():
            grad *= scale  # in place; float32 stays float32
    return total_norm


def _check_clip_arguments(grads: Any, max_norm: Any) -> None:
    """grads: a non-empty dict of distinct, writeable float arrays (each is
    scaled in place, so one array twice would be scaled twice); max_norm: a
    finite number > 0."""
    checks.positive_number("max_norm", max_norm)
    checks.mapping("grads", grads)
    if len(grads) == 0:
        raise ValueError(
            "grads must hold at least one gradient array, got an empty dict"
        )
    seen: list[tuple[Any, np.ndarray]] = []
    for name, grad in grads.items():
        where = f"grads[{name!r}]"
        if not isinstance(grad, np.ndarray) or not np.issubdtype(
            grad.dtype, np.floating
        ):
            # a list or a tensor: refused with a hint
            checks.array(where, grad, nonempty=False)
            raise checks.ArgumentTypeError(
                f"{where} must be a floating-point NumPy array, got dtype {grad.dtype}"
            )
        if not grad.flags.writeable:
            raise ValueError(
                f"{where} must be writeable: clipping scales it in place"
            )
        for other_name, other in seen:
            if _overlap(grad, other):
                raise ValueError(
                    f"{where} and grads[{other_name!r}] share memory: clipping would "
                    "scale it twice; give each gradient its own array (.copy())"
                )
        seen.append((name, grad))


def _overlap(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two arrays share memory (False when NumPy cannot tell quickly)."""
    if not np.may_share_memory(a, b):
        return False
    try:
        return bool(np.shares_memory(a, b, max_work=10_000))
    except np.exceptions.TooHardError:
        return False


# ----------------------------------------------------------------------------
# 5. The chain rule with explicit Jacobians
# ----------------------------------------------------------------------------


def backpropagate_through_jacobians(
    jacobians: Array,
    grad_last: Array,
) -> Array:
    """Carry a gradient back through the states: dL/ds_{t-1} = J_t^T dL/ds_t.

    jacobians: (T, n, n), J_t = d s_t / d s_{t-1}, as returned by
    ``rnn.rnn_state_jacobians`` (s = h) or ``rnn.lstm_state_jacobians``
    (s = (h, c)); grad_last: (n,), dL/ds_T for a loss that reads only s_T.
    Returns (T + 1, n): row t is dL/ds_t, t = 0 .. T (row T is grad_last).
    """
    _check_jacobians(jacobians, grad_last)
    T, n = len(jacobians), grad_last.size
    dtype = np.result_type(jacobians, grad_last)
    grads = np.empty((T + 1, n), dtype)  # row t: dL/ds_t
    grads[T] = grad_last
    for t in range(T, 0, -1):
        J_t = jacobians[t - 1]  # d s_t / d s_{t-1}
        grads[t - 1] = J_t.T @ grads[t]
    return grads


def _check_jacobians(jacobians: Any, grad_last: Any) -> None:
    """jacobians (T, n, n) and grad_last (n,): finite arrays of one float dtype."""
    _float_array("jacobians", jacobians)
    shape = jacobians.shape
    if len(shape) != 3 or shape[1] != shape[2] or 0 in shape:
        raise ValueError(
            f"jacobians must be an array of shape (T, n, n), T, n >= 1, got {shape}"
        )
    _float_array("grad_last", grad_last, jacobians.dtype, "jacobians")
    if grad_last.shape != (shape[1],):
        raise ValueError(
            f"grad_last must be an array of shape ({shape[1]},) to match the jacobians, "
            f"got {grad_last.shape}"
        )
    checks.array("jacobians", jacobians, finite=True)
    checks.array("grad_last", grad_last, finite=True)


# ----------------------------------------------------------------------------
# 6. Finite differences for one entry
# ----------------------------------------------------------------------------


def finite_difference(
    loss: Callable[[], float],
    array: Array,
    index: tuple[int, ...],
    eps: float,
    *,
    central: bool = True,
) -> float:
    """The slope of ``loss`` along one entry of ``array``, from two values.

    loss: a function of no arguments that reads ``array`` (for example a
        model's loss, where ``array`` is one of the model's parameters).
    array: a float array; entry ``index`` is nudged in place and restored.
    eps: the step, a positive number.
    central: (loss(a + eps) - loss(a - eps)) / (2 eps), whose error
        shrinks like eps^2; with ``central=False`` the forward difference
        (loss(a + eps) - loss(a)) / eps, whose error shrinks only like eps.
    Returns the slope as a Python float.
    """
    loss = _checked_loss(loss, array, index, eps, central)
    old = array[index]
    array[index] = old + eps
    plus = float(loss())  # loss(a + eps)
    if central:
        array[index] = old - eps
        other, step = float(loss()), 2 * eps  # loss(a - eps)
    else:
        array[index] = old
        other, step = float(loss()), eps  # loss(a)
    array[index] = old  # restore
    return (plus - other) / step


def _checked_loss(
    loss: Any, array: Any, index: Any, eps: Any, central: Any
) -> Callable[[], float]:
    """Check the arguments of ``finite_difference``; return ``loss`` wrapped so
    that it must return a real number, and so that ``array`` is restored if
    it does not (or if it raises)."""
    checks.function("loss", loss)
    if not isinstance(array, np.ndarray) or not np.issubdtype(
        array.dtype, np.floating
    ):
        # a list or a tensor: refused with a hint
        checks.array("array", array, nonempty=False)
        raise checks.ArgumentTypeError(
            f"array must be a floating-point NumPy array, got dtype {array.dtype}"
        )
    if not array.flags.writeable:
        raise ValueError(
            "array must be writeable: its entry is nudged in place"
        )
    _check_index("index", index, array.shape)
    checks.positive_number("eps", eps)
    checks.boolean("central", central)
    old = array[index].copy()

    def checked() -> float:
        try:
            value = loss()
        except BaseException:
            array[index] = old
            raise
        try:
            return _returned_number("loss", value)
        except TypeError:
            array[index] = old
            raise

    return checked


def _check_index(
    name: str, index: Any, shape: tuple[int, ...]
) -> tuple[int, ...]:
    """A tuple of one integer per axis, each in [0, size of the axis)."""
    if not isinstance(index, tuple) or len(index) != len(shape):
        raise checks.ArgumentTypeError(
            f"{name} must be a tuple of {len(shape)} integers for an array of shape "
            f"{shape}, got {checks.describe(index)}"
        )
    for axis, (i, size) in enumerate(zip(index, shape, strict=True)):
        checks.integer(f"{name}[{axis}]", i)
        if not 0 <= i < size:
            raise ValueError(
                f"{name}[{axis}] = {i} is outside axis {axis} of array, whose shape is "
                f"{shape}: it must be in [0, {size})"
            )
    return index
