"""An LSTM written by hand in NumPy that computes exactly what ``torch.nn.LSTM`` computes.

Read this module top to bottom; each part uses only what came before it.

1. **The equations, one small function each.** For an input ``x_t``, the previous hidden
   state ``h_{t-1}`` and the previous cell state ``c_{t-1}``::

       i_t = sigmoid(x_t W_ii^T + h_{t-1} W_hi^T + b_i)     input gate
       f_t = sigmoid(x_t W_if^T + h_{t-1} W_hf^T + b_f)     forget gate
       g_t =    tanh(x_t W_ig^T + h_{t-1} W_hg^T + b_g)     candidate values
       o_t = sigmoid(x_t W_io^T + h_{t-1} W_ho^T + b_o)     output gate
       c_t = f_t * c_{t-1} + i_t * g_t                      new cell state
       h_t = o_t * tanh(c_t)                                new hidden state

   ``sigmoid``, ``gate``, ``candidate``, ``new_cell_state`` and ``new_hidden_state`` are
   these lines.

2. **One fused step, the way PyTorch stores the weights.** PyTorch stacks the four gates'
   weights into one matrix ``weight_ih`` of shape (4H, D) (row blocks in the order i, f, g, o)
   and one ``weight_hh`` of shape (4H, H), so that one matrix product computes all four
   gates' pre-activations at once. ``split_gates`` cuts them apart again and
   ``lstm_cell_step`` is one time step of the cell.

3. **A whole layer over a whole sequence.** ``lstm_layer_forward`` calls ``lstm_cell_step``
   T times and keeps what backpropagation through time will need (``LayerCache``). It is
   written to be read, not to be fast: a tuned layer with the same arguments and results
   (to rounding) is ``lstm_tutorial.numpy_lstm_fast``, whose tests check it against this one.

4. **The models.** ``LSTMCell`` and ``LSTM`` mirror ``torch.nn.LSTMCell`` and
   ``torch.nn.LSTM``: same parameter names and shapes, same initialisation, same call
   signature, and ``load_state_dict`` accepts a torch module's ``state_dict()`` directly.
   ``LSTM.backward`` is Part II's backpropagation through time, ``bptt.lstm_backward``. This
   module does not import ``bptt`` (the backward pass builds on the forward one, never the
   other way round): ``bptt`` hands its function over with ``register_backward`` when it is
   imported.

Conventions: B is the batch size, T the number of time steps, D the input size and H the
hidden size. All arrays of one model share one floating dtype, float32 (PyTorch's default)
or float64. Nothing is cast silently: an input of another dtype is an error.

Checks. ``LSTMCell`` and ``LSTM`` (construction, call, ``load_state_dict``,
``layer_parameters``), ``lstm_layer_forward``, ``packed_gate_rows``, ``split_gates`` and
``register_backward`` check their arguments with :mod:`lstm_tutorial.checks` before
computing, and the error names the argument: sizes are integers >= 1, flags are True or
False, the dtype is np.float32 or np.float64, inputs and states are finite NumPy arrays of
exactly the model's dtype and shape (a list, a tensor, another dtype or another batch size is
refused, never converted or broadcast). The one-equation teaching functions (``sigmoid``,
``gate``, ``candidate``, ``new_cell_state``, ``new_hidden_state``) and the cell step
``lstm_cell_step`` stay short and unchecked: every entry point that reaches them checks
first (``LSTMCell``, ``LSTM``, ``lstm_layer_forward``, ``rnn.lstm_step_jacobian``). Weights
are checked for NaN and inf where they come in, in ``load_state_dict``, not at every call.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from lstm_tutorial import checks

Array = NDArray[np.floating]

#: PyTorch's order of the four gate blocks in ``weight_ih``, ``weight_hh`` and the biases.
GATE_ORDER = ("i", "f", "g", "o")
#: The order of the gates in a ``LayerCache``: the three sigmoid gates first (the order in
#: which the tuned layer of ``numpy_lstm_fast`` computes them).
PACKED_GATE_ORDER = ("i", "f", "o", "g")


# ---------------------------------------------------------------------------------------------
# 1. The equations, one small function each
# ---------------------------------------------------------------------------------------------


def sigmoid(z: ArrayLike) -> Array:
    """The logistic function ``1 / (1 + exp(-z))``, elementwise.

    z: any shape, float32 or float64; the result has z's shape and dtype.
    """
    # We use the identity sigmoid(z) = 0.5 * tanh(z / 2) + 0.5.
    # Same function, but exp(-z) overflows for z below about -88
    # (float32) or -709 (float64): NumPy then warns and computes
    # 1 / inf. tanh never overflows; it saturates at -1 and 1.
    # The identity also lets the tuned layer in numpy_lstm_fast
    # compute all four gates with one np.tanh.
    z = np.asarray(z)
    return 0.5 * np.tanh(0.5 * z) + 0.5


def gate(x: Array, h: Array, W: Array, U: Array, b: ArrayLike) -> Array:
    """One gate (input, forget or output): ``sigmoid(x W^T + h U^T + b)``.

    x: (B, D) or (D,);  h: (B, H) or (H,);  W: (H, D);  U: (H, H);
    b: (H,) or 0.0. Returns (B, H) or (H,), values in (0, 1), in the
    dtype of the inputs.
    """
    return sigmoid(x @ W.T + h @ U.T + b)


def candidate(x: Array, h: Array, W: Array, U: Array, b: ArrayLike) -> Array:
    """The candidate values ``g = tanh(x W^T + h U^T + b)``, in (-1, 1).

    Shapes as in ``gate``.
    """
    return np.tanh(x @ W.T + h @ U.T + b)


def new_cell_state(
    c_prev: Array, f: Array, i: Array, g: Array, out: Array | None = None
) -> Array:
    """``c_t = f * c_{t-1} + i * g``: keep part of the old memory, write
    part of the new.

    All arguments have one shape, (B, H) or (H,). ``out``, if given,
    receives the result (it may not be one of the inputs) and is returned.
    """
    c = np.multiply(f, c_prev, out=out)
    c += i * g
    return c


def new_hidden_state(o: Array, c: Array, out: Array | None = None) -> Array:
    """``h_t = o * tanh(c_t)``: the part of the squashed memory that the
    cell shows.

    ``o`` and ``c`` have one shape, (B, H) or (H,). ``out`` as in
    ``new_cell_state``.
    """
    h = np.tanh(c, out=out)
    h *= o
    return h


# ---------------------------------------------------------------------------------------------
# 2. One fused step, with PyTorch's weight layout
# ---------------------------------------------------------------------------------------------


def split_gates(z: ArrayLike) -> tuple[Array, Array, Array, Array]:
    """Cut the last axis of size 4H into the four gate blocks, in PyTorch's
    order i, f, g, o.

    z: (..., 4H). Returns four views of shape (..., H); nothing is copied.
    """
    z = _check_gate_axis(z)
    H = z.shape[-1] // 4
    return z[..., :H], z[..., H : 2 * H], z[..., 2 * H : 3 * H], z[..., 3 * H :]


def lstm_cell_step(
    x: Array,
    h: Array,
    c: Array,
    weight_ih: Array,
    weight_hh: Array,
    bias_ih: Array | None = None,
    bias_hh: Array | None = None,
) -> tuple[Array, Array, Array]:
    """One time step of an LSTM cell with PyTorch's stacked weights.

    x: (B, D) or (D,);  h, c: the previous states h_{t-1}, c_{t-1},
    (B, H) or (H,);  weight_ih: (4H, D);  weight_hh: (4H, H);
    bias_ih, bias_hh: (4H,) or None (no bias).
    Returns ``(h_t, c_t, gates)``: the new states, (B, H) or (H,), and
    the gate activations, (B, 4H) or (4H,), in PyTorch's order i, f, g, o.
    All in the dtype of the inputs.
    """
    z = x @ weight_ih.T + h @ weight_hh.T  # (B, 4H): all four gates
    if bias_ih is not None:
        z += bias_ih
    if bias_hh is not None:
        z += bias_hh
    i, f, g, o = split_gates(z)  # each (B, H)
    i, f, g, o = sigmoid(i), sigmoid(f), np.tanh(g), sigmoid(o)
    c = new_cell_state(c, f, i, g)
    h = new_hidden_state(o, c)
    return h, c, np.concatenate([i, f, g, o], axis=-1)


# ---------------------------------------------------------------------------------------------
# 3. A whole layer over a whole sequence
# ---------------------------------------------------------------------------------------------


@dataclass
class LayerCache:
    """What one layer's forward pass keeps for backpropagation through time.

    All arrays are time-major and batched, even when the model's input was batch-first or
    unbatched. ``D_k`` is the layer's input size: D for the first layer (PyTorch's layer 0),
    H for the layers above.

    - ``x``: (T, B, D_k), the layer's input (above the first layer: the ``h`` of the layer
      below).
    - ``h0``, ``c0``: (B, H), the initial states h_0 and c_0.
    - ``gates``: (4, T, B, H), the gate activations at every step, gate first, in
      ``PACKED_GATE_ORDER``: ``i, f, o, g = cache.gates``, each (T, B, H).
      ``packed_gate_rows(H)`` maps this order to the row blocks of PyTorch's weights.
    - ``c``: (T, B, H), the cell states c_1 ... c_T (``c[t - 1]`` is c_t).
    - ``h``: (T, B, H), the hidden states h_1 ... h_T; this is the layer's output.

    tanh(c_t) is not kept: a backward pass recomputes it with one call, ``np.tanh(c)``.
    Read the arrays, do not write to them: ``h`` of the top layer is the model's output, and
    the tuned layer of ``numpy_lstm_fast`` returns views into buffers that it reuses.
    """

    x: Array
    h0: Array
    c0: Array
    gates: Array
    c: Array
    h: Array


#: Where each gate of ``PACKED_GATE_ORDER`` sits in PyTorch's ``GATE_ORDER``: [0, 1, 3, 2].
PACKED_FROM_TORCH = [GATE_ORDER.index(name) for name in PACKED_GATE_ORDER]


def packed_gate_rows(hidden_size: int) -> NDArray[np.intp]:
    """Row indices that reorder PyTorch's gate blocks (i, f, g, o) into (i, f, o, g).

    ``weight[packed_gate_rows(H)]`` is ``weight`` with its row blocks in the packed order;
    a gradient computed in the packed order goes back with
    ``grad[packed_gate_rows(H)] = grad_packed``.
    """
    H = checks.positive_int("hidden_size", hidden_size)
    return np.concatenate(
        [np.arange(k * H, (k + 1) * H) for k in PACKED_FROM_TORCH]
    )


def lstm_layer_forward(
    x: Array,
    h0: Array,
    c0: Array,
    weight_ih: Array,
    weight_hh: Array,
    bias_ih: Array | None = None,
    bias_hh: Array | None = None,
) -> LayerCache:
    """One LSTM layer over a whole sequence: ``lstm_cell_step``, T times.

    x: (T, B, D), time-major;  h0, c0: (B, H);  weights and biases as in
    ``lstm_cell_step``, all of x's dtype. Returns the ``LayerCache`` that
    backpropagation through time reads; its ``h``, (T, B, H), is the output.
    """
    _check_layer_forward(x, h0, c0, weight_ih, weight_hh, bias_ih, bias_hh)
    weights = (weight_ih, weight_hh, bias_ih, bias_hh)
    h, c = h0, c0
    hs, cs, gates = [], [], []
    for x_t in x:  # x_t: (B, D), the input of one step
        h, c, gates_t = lstm_cell_step(x_t, h, c, *weights)
        hs.append(h)
        cs.append(c)
        gates.append(gates_t)  # (B, 4H), PyTorch's order i, f, g, o
    i, f, g, o = split_gates(np.stack(gates))  # each (T, B, H)
    return LayerCache(
        x=x,
        h0=h0,
        c0=c0,
        gates=np.stack([i, f, o, g]),  # (4, T, B, H): PACKED_GATE_ORDER
        c=np.stack(cs),  # (T, B, H): c_1 ... c_T
        h=np.stack(hs),  # (T, B, H): h_1 ... h_T
    )


@dataclass
class ForwardCache:
    """What ``LSTM.forward`` keeps for a backward pass: one ``LayerCache`` per layer, bottom
    first, and how the input was laid out (so that gradients can be returned in that layout).
    Valid until the model's next forward call replaces it.
    """

    layers: list[LayerCache]
    batch_first: bool
    unbatched: bool


#: The backward pass of ``LSTM``: ``bptt.lstm_backward``, handed over by ``bptt`` when it
#: is imported (see ``register_backward``); None until then.
_backward_pass: Callable[..., Array] | None = None


def register_backward(backward: Callable[..., Array]) -> None:
    """Make ``backward(model, grad_output, grad_h_n, grad_c_n)`` the algorithm behind
    ``LSTM.backward``. ``lstm_tutorial.bptt`` calls it with ``lstm_backward`` when it is
    imported; this module never imports bptt, so that the forward pass does not depend on
    the backward one."""
    global _backward_pass
    _backward_pass = checks.function("backward", backward)


# ---------------------------------------------------------------------------------------------
# 4. The models
# ---------------------------------------------------------------------------------------------


# The checks of this module's entry points, built on ``lstm_tutorial.checks``. Each names the
# argument and says what was expected; none converts anything.


def _rng_from(seed: Any, rng: Any) -> np.random.Generator:
    """The Generator that initialises a model: from ``seed`` (an integer >= 0) or ``rng``."""
    seed = checks.optional(checks.seed, "seed", seed)
    rng = checks.optional(checks.rng, "rng", rng)
    if seed is not None and rng is not None:
        raise ValueError("seed and rng: give one of them, not both")
    return rng if rng is not None else np.random.default_rng(seed)


def _float_array(
    name: str,
    value: Any,
    dtype: np.dtype | None = None,
    of: str = "the model",
    *,
    finite: bool = False,
) -> Array:
    """``value`` if it is a float32 or float64 NumPy array, of exactly ``dtype`` if given:
    the dtype of ``of`` ("the model", or another argument of the same call). A list or a
    tensor is refused with a hint, another dtype is refused (nothing is cast silently);
    ``finite``: NaN and inf are refused too. The shape is the caller's to check."""
    checks.array(name, value, nonempty=False)
    if value.dtype not in checks.NUMPY_FLOATS:
        wanted = "float32 or float64" if dtype is None else str(dtype)
        raise checks.ArgumentTypeError(
            f"{name} must be a floating-point array of dtype {wanted}, got dtype {value.dtype}"
        )
    if dtype is not None and value.dtype != dtype:
        hint = f"use {name}.astype(np.{dtype})"
        if of == "the model":
            hint += f" or build the model with dtype=np.{value.dtype}"
        raise checks.ArgumentTypeError(
            f"{name} has dtype {value.dtype} but {of} is {dtype}; nothing is cast silently: {hint}"
        )
    if finite:
        checks.array(name, value, nonempty=False, finite=True)
    return value


def _check_gate_axis(z: Any) -> np.ndarray:
    """``z`` as an array whose last axis holds the four gates' blocks: 4H numbers, H >= 1."""
    if checks.is_tensor(z):
        checks.array("z", z)  # refused, with the hint to convert it
    z = np.asarray(z)
    if not (
        np.issubdtype(z.dtype, np.number)
        and not np.issubdtype(z.dtype, np.bool_)
    ):
        raise checks.ArgumentTypeError(
            f"z must hold numbers, got dtype {z.dtype}"
        )
    if z.ndim == 0 or z.shape[-1] % 4 != 0 or z.shape[-1] == 0:
        raise ValueError(
            f"z must have a last axis of size 4H (a multiple of 4, H >= 1), got shape {z.shape}"
        )
    return z


def _check_weights(
    weight_ih: Any,
    weight_hh: Any,
    bias_ih: Any = None,
    bias_hh: Any = None,
    *,
    dtype: np.dtype | None = None,
    of: str = "weight_hh",
    input_size: int | None = None,
    both_biases: bool = False,
) -> int:
    """Check one layer's weights in PyTorch's layout: weight_ih (4H, D), weight_hh (4H, H),
    biases (4H,) or None, all of one float dtype (``dtype``, the dtype of ``of``, if given).
    ``input_size``: D, if it is known. ``both_biases``: both biases or neither. Returns H."""
    weight_hh = _float_array("weight_hh", weight_hh, dtype, of)
    if (
        weight_hh.ndim != 2
        or weight_hh.shape[1] == 0
        or weight_hh.shape[0] != 4 * weight_hh.shape[1]
    ):
        raise ValueError(
            f"weight_hh must have shape (4H, H) with H >= 1, got {weight_hh.shape}"
        )
    dtype, of = (weight_hh.dtype, "weight_hh") if dtype is None else (dtype, of)
    H = weight_hh.shape[1]
    weight_ih = _float_array("weight_ih", weight_ih, dtype, of)
    D = weight_ih.shape[-1] if input_size is None else input_size
    if weight_ih.ndim != 2 or weight_ih.shape != (4 * H, D) or D == 0:
        D_text = "D" if input_size is None else f"D={input_size}"
        raise ValueError(
            f"weight_ih must have shape (4H, {D_text}) with the H = {H} of weight_hh, "
            f"got {weight_ih.shape}"
        )
    if both_biases and (bias_ih is None) != (bias_hh is None):
        raise ValueError(
            "bias_ih and bias_hh must both be arrays or both be None (no bias), got "
            f"{'None' if bias_ih is None else 'an array'} and "
            f"{'None' if bias_hh is None else 'an array'}"
        )
    for name, bias in (("bias_ih", bias_ih), ("bias_hh", bias_hh)):
        if bias is not None:
            _float_array(name, bias, dtype, of)
            if bias.shape != (4 * H,):
                raise ValueError(
                    f"{name} must have shape (4H,) = ({4 * H},), got {bias.shape}"
                )
    return H


def _check_layer_forward(
    x, h0, c0, weight_ih, weight_hh, bias_ih, bias_hh
) -> None:
    """The arguments of ``lstm_layer_forward``: x (T, B, D) and h0, c0 (B, H) finite, all
    arrays of x's dtype, and the weights of one layer."""
    x = _float_array("x", x, finite=True)
    if x.ndim != 3 or 0 in x.shape:
        raise ValueError(
            f"x must have shape (T, B, D), time-major, with T, B, D >= 1, got {x.shape}"
        )
    T, B, D = x.shape
    H = _check_weights(
        weight_ih, weight_hh, bias_ih, bias_hh, dtype=x.dtype, of="x", input_size=D,
        both_biases=True,
    )  # fmt: skip
    for name, state in (("h0", h0), ("c0", c0)):
        _float_array(name, state, x.dtype, "x", finite=True)
        if state.shape != (B, H):
            raise ValueError(
                f"{name} must have shape (B, H) = {(B, H)}, got {state.shape}"
            )


def _check_state_pair(hx: Any) -> tuple[Any, Any]:
    """``hx`` as ``(h0, c0)``: a tuple (or list) of two; the arrays are checked by the caller."""
    if not isinstance(hx, tuple | list) or len(hx) != 2:
        what = f"a {type(hx).__name__}"
        if isinstance(hx, tuple | list):
            what += f" of length {len(hx)}"
        raise checks.ArgumentTypeError(
            f"hx must be a pair (h0, c0) of arrays, or None; got {what}"
        )
    return hx[0], hx[1]


def _check_state(
    name: str, state: Any, dtype: np.dtype, shape: tuple[int, ...], layout: str
):
    """One initial state: a finite array of the model's dtype and exactly ``shape`` (another
    batch size is refused, not broadcast)."""
    _float_array(name, state, dtype)
    if state.shape != shape:
        raise ValueError(
            f"expected {name} of shape {shape} {layout}, got {state.shape}"
        )
    return checks.array(name, state, nonempty=False, finite=True)


def _parameter_value(
    key: str, value: Any, shape: tuple[int, ...], dtype: np.dtype
) -> np.ndarray:
    """One entry of a state dict as a NumPy array: a NumPy array or a torch tensor (on any
    device) of floating values, of exactly ``shape``, finite and within ``dtype``'s range."""
    name = f"state_dict[{key!r}]"
    if checks.is_tensor(value):
        if not value.is_floating_point():
            raise checks.ArgumentTypeError(
                f"{name} must hold floating-point values, got dtype {value.dtype}"
            )
        value = value.detach().cpu()
        if str(value.dtype) == "torch.bfloat16":  # NumPy has no bfloat16
            value = value.float()
        value = value.numpy()
    checks.array(name, value, nonempty=False)
    if not np.issubdtype(value.dtype, np.floating):
        raise checks.ArgumentTypeError(
            f"{name} must hold floating-point values, got dtype {value.dtype}"
        )
    if value.shape != shape:
        raise ValueError(f"{name} has shape {value.shape} but expected {shape}")
    checks.array(name, value, nonempty=False, finite=True)
    if value.size and np.abs(value).max() > np.finfo(dtype).max:
        raise ValueError(
            f"{name} holds values too large for the model's dtype {dtype}"
        )
    return value


class _Parameters:
    """Parameter handling shared by ``LSTMCell`` and ``LSTM``.

    Each parameter is an attribute named as in PyTorch (``weight_ih_l0`` ...); ``_shapes``
    lists the names in PyTorch's order with their shapes.

    Each weight matrix is kept transposed in memory: ``weight_hh_l0`` has PyTorch's shape
    (4H, H) and values, but it is the transposed view of a contiguous (H, 4H) array (it is
    column-major, ``order="F"``). The forward pass multiplies by W^T, and NumPy reads a
    contiguous W^T fastest; rearranging a row-major W at every call would cost more.
    """

    dtype: np.dtype
    _shapes: dict[str, tuple[int, ...]]

    def _init_parameters(self, rng: np.random.Generator) -> None:
        # PyTorch's initialisation: every weight and bias uniform on [-1/sqrt(H), 1/sqrt(H)],
        # drawn in float64 and rounded to the model's dtype.
        bound = 1.0 / math.sqrt(self.hidden_size)
        for name, shape in self._shapes.items():
            value = rng.uniform(-bound, bound, size=shape)
            setattr(self, name, np.asarray(value, dtype=self.dtype, order="F"))

    def named_parameters(self) -> Iterator[tuple[str, Array]]:
        """``(name, array)`` pairs in PyTorch's order; the arrays are the parameters themselves."""
        for name in self._shapes:
            yield name, getattr(self, name)

    def parameters(self) -> list[Array]:
        """The parameter arrays themselves (not copies), in PyTorch's order."""
        return [getattr(self, name) for name in self._shapes]

    def state_dict(self) -> dict[str, Array]:
        """Copies of the parameters, keyed and ordered as a torch module's ``state_dict()``."""
        return {name: getattr(self, name).copy() for name in self._shapes}

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Copy parameters in from ``state_dict``: this model's own ``state_dict()`` or a torch
        module's (tensors are fine; torch is not needed otherwise).

        Keys and shapes must match exactly and values must be finite floating-point numbers;
        they are cast to the model's dtype and written into the existing arrays. Nothing is
        changed unless every entry is valid.
        """
        checks.mapping("state_dict", state_dict)
        for key in state_dict:
            if key not in self._shapes:
                raise ValueError(
                    f"unexpected key {key!r} in state_dict; expected keys: {list(self._shapes)}"
                )
        arrays = {}
        for key, shape in self._shapes.items():
            if key not in state_dict:
                raise ValueError(
                    f"missing key {key!r} (expected shape {shape}) in state_dict"
                )
            arrays[key] = _parameter_value(
                key, state_dict[key], shape, self.dtype
            )
        for key, value in arrays.items():
            getattr(self, key)[...] = value  # in place, cast to self.dtype


class LSTMCell(_Parameters):
    """One LSTM cell, like ``torch.nn.LSTMCell``: one time step per call.

    Parameters ``weight_ih`` (4H, D), ``weight_hh`` (4H, H) and, with ``bias=True``,
    ``bias_ih`` and ``bias_hh`` (4H,); gate blocks in PyTorch's order i, f, g, o. They are
    initialised uniformly on [-1/sqrt(H), 1/sqrt(H)] from ``seed`` (an int) or ``rng`` (a
    ``np.random.Generator``).
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        dtype: Any = np.float32,
        seed: int | None = None,
        rng: np.random.Generator | None = None,
    ) -> None:
        self.input_size = checks.positive_int("input_size", input_size)
        self.hidden_size = checks.positive_int("hidden_size", hidden_size)
        self.bias = checks.boolean("bias", bias)
        self.dtype = checks.numpy_float_dtype("dtype", dtype)
        rng = _rng_from(seed, rng)
        D, H = self.input_size, self.hidden_size
        self._shapes = {"weight_ih": (4 * H, D), "weight_hh": (4 * H, H)}
        if self.bias:
            self._shapes |= {"bias_ih": (4 * H,), "bias_hh": (4 * H,)}
        self._init_parameters(rng)

    def __repr__(self) -> str:
        extra = "" if self.bias else ", bias=False"
        return f"LSTMCell({self.input_size}, {self.hidden_size}{extra})"

    def __call__(
        self, x: Array, hx: tuple[Array, Array] | None = None
    ) -> tuple[Array, Array]:
        """One step. x: (B, D) or unbatched (D,); hx: ``(h0, c0)``, each (B, H) or (H,),
        zeros if None. Returns ``(h, c)``, each (B, H) or (H,), in the model's dtype.
        """
        x = _float_array("x", x, self.dtype)
        if x.ndim not in (1, 2):
            raise ValueError(
                f"expected x of shape (B, D) or unbatched (D,), got shape {x.shape}"
            )
        if x.shape[-1] != self.input_size:
            raise ValueError(
                f"expected x's last dimension to be input_size={self.input_size}, "
                f"got {x.shape[-1]} (x has shape {x.shape})"
            )
        if x.size == 0:
            raise ValueError(
                f"x must have at least one example in the batch, got shape {x.shape}"
            )
        checks.array("x", x, finite=True)
        state_shape = (*x.shape[:-1], self.hidden_size)
        if hx is None:
            h0, c0 = (
                np.zeros(state_shape, dtype=self.dtype),
                np.zeros(state_shape, dtype=self.dtype),
            )
        else:
            h0, c0 = _check_state_pair(hx)
            layout = (
                f"(batch, hidden_size), batch = {x.shape[0]} as in x"
                if x.ndim == 2
                else "(hidden_size,) for unbatched x"
            )
            for name, state in (("h0", h0), ("c0", c0)):
                _check_state(name, state, self.dtype, state_shape, layout)
        biases = (self.bias_ih, self.bias_hh) if self.bias else (None, None)
        h, c, _ = lstm_cell_step(
            x, h0, c0, self.weight_ih, self.weight_hh, *biases
        )
        return h, c


class LSTM(_Parameters):
    """A stack of LSTM layers, like ``torch.nn.LSTM`` (without dropout, bidirectional, proj_size).

    Parameters, for each layer k: ``weight_ih_l{k}`` (4H, D) for k = 0 and (4H, H) above,
    ``weight_hh_l{k}`` (4H, H) and, with ``bias=True``, ``bias_ih_l{k}``, ``bias_hh_l{k}``
    (4H,); gate blocks in PyTorch's order i, f, g, o. PyTorch counts layers from 0: the
    first layer's weights end in ``_l0``. They are initialised uniformly on
    [-1/sqrt(H), 1/sqrt(H)] from ``seed`` (an int) or ``rng`` (a ``np.random.Generator``);
    the same seed gives the same parameters.

    Call the model as ``output, (h_n, c_n) = lstm(x, hx)``; see ``forward``. Each layer runs
    ``lstm_layer_forward``; ``numpy_lstm_fast.FastLSTM`` is the same model with the tuned layer.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dtype: Any = np.float32,
        seed: int | None = None,
        rng: np.random.Generator | None = None,
    ) -> None:
        self.input_size = checks.positive_int("input_size", input_size)
        self.hidden_size = checks.positive_int("hidden_size", hidden_size)
        self.num_layers = checks.positive_int("num_layers", num_layers)
        self.bias = checks.boolean("bias", bias)
        self.batch_first = checks.boolean("batch_first", batch_first)
        self.dtype = checks.numpy_float_dtype("dtype", dtype)
        rng = _rng_from(seed, rng)
        H = self.hidden_size
        self._shapes = {}
        for k in range(self.num_layers):
            D_k = self.input_size if k == 0 else H
            self._shapes |= {
                f"weight_ih_l{k}": (4 * H, D_k),
                f"weight_hh_l{k}": (4 * H, H),
            }
            if self.bias:
                self._shapes |= {
                    f"bias_ih_l{k}": (4 * H,),
                    f"bias_hh_l{k}": (4 * H,),
                }
        self._init_parameters(rng)
        self._cache: ForwardCache | None = None

    def __repr__(self) -> str:
        extra = (
            f", num_layers={self.num_layers}" if self.num_layers != 1 else ""
        )
        extra += "" if self.bias else ", bias=False"
        extra += ", batch_first=True" if self.batch_first else ""
        extra += "" if self.dtype == np.float32 else f", dtype={self.dtype}"
        return f"{type(self).__name__}({self.input_size}, {self.hidden_size}{extra})"

    def layer_parameters(
        self, k: int
    ) -> tuple[Array, Array, Array | None, Array | None]:
        """``(weight_ih, weight_hh, bias_ih, bias_hh)`` of layer k, counted from 0 as in
        PyTorch's names (biases None without bias)."""
        k = checks.integer("k", k, minimum=0, maximum=self.num_layers - 1)
        weights = (
            getattr(self, f"weight_ih_l{k}"),
            getattr(self, f"weight_hh_l{k}"),
        )
        if not self.bias:
            return (*weights, None, None)
        return (
            *weights,
            getattr(self, f"bias_ih_l{k}"),
            getattr(self, f"bias_hh_l{k}"),
        )

    def forward(
        self, x: Array, hx: tuple[Array, Array] | None = None
    ) -> tuple[Array, tuple[Array, Array]]:
        """Run the whole stack over a sequence, exactly as ``torch.nn.LSTM.forward``.

        x: (T, B, D), or (B, T, D) if ``batch_first``, or unbatched (T, D); model's dtype.
        hx: ``(h0, c0)``, each (num_layers, B, H), or (num_layers, H) for unbatched x;
        zeros if None.

        Returns ``output, (h_n, c_n)``: output (T, B, H), (B, T, H) or (T, H), the top layer's
        hidden state at every step; h_n and c_n (num_layers, B, H) or (num_layers, H), every
        layer's last hidden and cell state (``h_n[k]``: the layer with weights ``_l{k}``).

        Side effect: ``self._cache`` becomes a ``ForwardCache`` holding one ``LayerCache``
        per layer (gate activations, cell and hidden states, inputs) for a backward pass.
        The returned arrays share memory with that cache; each call returns new ones.
        """
        x, unbatched = self._check_input(x)
        if unbatched:
            x = x[:, None, :]  # (T, 1, D)
        elif self.batch_first:
            x = x.swapaxes(0, 1)  # (T, B, D)
        x = np.ascontiguousarray(x)  # time-major: one (B, D) slice per step
        T, B, _ = x.shape
        h0, c0 = self._initial_state(
            hx, B, unbatched
        )  # each (num_layers, B, H)

        layers = self._forward_layers(x, h0, c0)
        self._cache = ForwardCache(
            layers=layers, batch_first=self.batch_first, unbatched=unbatched
        )

        output = layers[-1].h  # (T, B, H)
        h_n = np.stack([layer.h[-1] for layer in layers])  # (num_layers, B, H)
        c_n = np.stack([layer.c[-1] for layer in layers])  # (num_layers, B, H)
        if unbatched:
            return output[:, 0], (
                h_n[:, 0],
                c_n[:, 0],
            )  # (T, H), (num_layers, H)
        if self.batch_first:
            output = output.swapaxes(0, 1)  # (B, T, H)
        return output, (h_n, c_n)

    __call__ = forward

    def _forward_layers(
        self, x: Array, h0: Array, c0: Array
    ) -> list[LayerCache]:
        """One ``LayerCache`` per layer, bottom first: each layer reads the ``h`` of the one
        below. x: (T, B, D), checked; h0, c0: (num_layers, B, H)."""
        layers = []
        for k in range(self.num_layers):
            layer = lstm_layer_forward(
                x, h0[k], c0[k], *self.layer_parameters(k)
            )
            layers.append(layer)
            x = layer.h  # (T, B, H), the input of the next layer
        return layers

    def backward(
        self,
        grad_output: Array,
        grad_h_n: Array | None = None,
        grad_c_n: Array | None = None,
    ) -> Array:
        """Backpropagation through time for the last ``forward`` call (Part II).

        grad_output has the shape of that call's output, grad_h_n and grad_c_n the shape of
        h_n and c_n (None: zeros). Returns the gradient with respect to the input, in the
        input's layout; stores ``self.grads`` (keys and shapes of ``state_dict()``) and
        ``self.grad_hx = (grad_h0, grad_c0)``. The algorithm is ``bptt.lstm_backward``, which
        ``lstm_tutorial.bptt`` registers when it is imported (see ``register_backward``).
        """
        if _backward_pass is None:
            raise RuntimeError(
                "LSTM.backward has no algorithm yet: it is bptt.lstm_backward, which "
                "lstm_tutorial.bptt registers (numpy_lstm.register_backward) when it is "
                "imported. import lstm_tutorial.bptt first, or call "
                "bptt.lstm_backward(model, grad_output, grad_h_n, grad_c_n)"
            )
        return _backward_pass(self, grad_output, grad_h_n, grad_c_n)

    def _check_input(self, x: Any) -> tuple[Array, bool]:
        """Validate x; return it and whether it is unbatched."""
        x = _float_array("x", x, self.dtype)
        batched = "(B, T, D)" if self.batch_first else "(T, B, D)"
        if x.ndim not in (2, 3):
            raise ValueError(
                f"expected x of shape {batched} or unbatched (T, D), got shape {x.shape}"
            )
        if x.shape[-1] != self.input_size:
            raise ValueError(
                f"expected x's last dimension to be input_size={self.input_size}, "
                f"got {x.shape[-1]} (x has shape {x.shape})"
            )
        unbatched = x.ndim == 2
        T = x.shape[1] if self.batch_first and not unbatched else x.shape[0]
        if T == 0:
            raise ValueError(
                f"x must have at least one time step, got shape {x.shape}"
            )
        if x.size == 0:
            raise ValueError(
                f"x must have at least one sequence in the batch, got shape {x.shape}"
            )
        checks.array("x", x, finite=True)
        return x, unbatched

    def _initial_state(
        self, hx: Any, B: int, unbatched: bool
    ) -> tuple[Array, Array]:
        """(h0, c0), each (num_layers, B, H): zeros, or the validated hx given by the caller."""
        L, H = self.num_layers, self.hidden_size
        if hx is None:
            return np.zeros((L, B, H), dtype=self.dtype), np.zeros(
                (L, B, H), dtype=self.dtype
            )
        h0, c0 = _check_state_pair(hx)
        if unbatched:
            expected, layout = (
                (L, H),
                "(num_layers, hidden_size) for unbatched x",
            )
        else:
            expected, layout = (
                (L, B, H),
                f"(num_layers, batch, hidden_size), batch = {B} as in x",
            )
        for name, state in (("h0", h0), ("c0", c0)):
            _check_state(name, state, self.dtype, expected, layout)
        if unbatched:
            return h0[:, None, :], c0[:, None, :]  # (L, 1, H)
        return h0, c0
