"""A tuned NumPy LSTM layer: the same numbers as ``numpy_lstm``'s plain layer, faster.

``numpy_lstm.lstm_layer_forward`` is written to be read: it calls ``lstm_cell_step`` once per
time step. This module computes the same layer with three tricks that make NumPy fast. A
chapter on speed is planned; until then ``python -m lstm_tutorial.bench`` (``make bench``)
times it against ``torch.nn.LSTM`` and adds the tricks one at a time, in this order:

1. **Hoisting.** x_t W_ih^T + b does not depend on h, so it is computed for all T steps
   before the loop, in products of many rows at once (all T * B rows for a batch). Only
   h_{t-1} W_hh^T is left inside the loop.
2. **One tanh per step.** With the packed weights of ``pack_weights`` the products hold
   z / 2 for the three sigmoid gates, so a single np.tanh over all four gates serves the
   three sigmoids and the candidate (sigmoid(z) = 0.5 * tanh(z / 2) + 0.5); two in-place
   operations on the sigmoid block finish the sigmoids. With small arrays the number of
   NumPy calls, not the arithmetic, sets the speed.
3. **In place.** No new arrays inside the loop (but the small product i * g): every step
   writes into (T, ...) arrays made before the loop, through ``out=`` and in-place
   operators. Under the same heading go the details that serve it, none of which changes
   the arithmetic: the gate buffer is laid out so that each gate's (B, H) block at each
   step is contiguous (NumPy is several times slower on strided views); the per-gate views
   are made before the loop; the loop gives the NumPy functions local names and passes 0.5
   as a 0-d array; for B = 1 the hoisted product is computed in blocks that OpenBLAS keeps
   in the calling thread; and ``FastLSTM`` writes its gates into the buffers of its previous
   call.

``lstm_layer_forward`` here takes the arguments of the plain one (plus ``gates_buffer``) and
returns the same ``numpy_lstm.LayerCache``, so ``bptt.lstm_layer_backward`` reads either;
``FastLSTM`` is ``numpy_lstm.LSTM`` with this layer. The tests (``tests/test_numpy_lstm_fast.py``)
check both against the plain layer and model: outputs, caches and backward passes, for
several shapes, both dtypes, with and without bias.

Checks: ``pack_weights``, ``lstm_layer_forward`` and ``FastLSTM`` check their arguments
before computing, as in ``numpy_lstm``.
"""

from __future__ import annotations

import numpy as np

from lstm_tutorial import checks
from lstm_tutorial.numpy_lstm import (
    LSTM,
    PACKED_FROM_TORCH,
    Array,
    LayerCache,
    _check_layer_forward,
    _check_weights,
)


def pack_weights(
    weight_ih: Array,
    weight_hh: Array,
    bias_ih: Array | None = None,
    bias_hh: Array | None = None,
    side_by_side: bool = False,
) -> tuple[Array, Array, Array | None]:
    """Rearrange PyTorch-layout weights for ``lstm_layer_forward``.

    Returns ``(W_ih_T, W_hh_T, b)``. By default the gates come first: W_ih_T (4, D, H),
    W_hh_T (4, H, H) and b (4, 1, H), so that ``x @ W_ih_T[k] + b[k]`` is gate k's part.
    With ``side_by_side`` the four gates' columns sit side by side instead: W_ih_T (D, 4H),
    W_hh_T (H, 4H) and b (4H,), as in ``x @ weight_ih.T + bias_ih``. b is None without
    bias. In detail:

    - The gates are in the packed order i, f, o, g (``numpy_lstm.PACKED_GATE_ORDER``): the
      three sigmoid gates come first, so that one slice, ``[:3]`` (or ``[:, :3H]``), holds
      all of them.
    - The sigmoid gates' weights and biases are multiplied by 0.5, so that the products
      directly give the z / 2 that sigmoid(z) = 0.5 * tanh(z / 2) + 0.5 needs. Multiplying
      by a power of two is exact in floating point, so this changes no rounding.
    - W_hh_T, used at every step, is contiguous, the layout in which the product
      h_{t-1} W_hh^T runs fastest. (W_ih_T, used once, may be a view.)
    - The two biases are added into one.

    Works for weights in any memory order; it is fastest for the models' column-major
    weights, whose transposes are contiguous.
    """
    _check_weights(weight_ih, weight_hh, bias_ih, bias_hh, both_biases=True)
    checks.boolean("side_by_side", side_by_side)
    H, D = weight_hh.shape[1], weight_ih.shape[1]
    # (4H,): 0.5 for the sigmoid gates' columns, 1 for the candidate's
    scale = np.repeat(np.array([0.5, 0.5, 0.5, 1.0], dtype=weight_hh.dtype), H)
    # W^T, its blocks of H columns reordered to i, f, o, g (take makes a contiguous copy),
    # then the sigmoid gates' columns halved in place.
    W_ih_T = (
        weight_ih.T.reshape(D, 4, H)
        .take(PACKED_FROM_TORCH, axis=1)
        .reshape(D, 4 * H)
    )
    W_hh_T = (
        weight_hh.T.reshape(H, 4, H)
        .take(PACKED_FROM_TORCH, axis=1)
        .reshape(H, 4 * H)
    )
    W_ih_T *= scale
    W_hh_T *= scale
    b = None
    if bias_ih is not None:
        b = (bias_ih + bias_hh).reshape(4, H)[PACKED_FROM_TORCH].reshape(4 * H)
        b *= scale
    if side_by_side:
        return W_ih_T, W_hh_T, b  # (D, 4H), (H, 4H), (4H,)
    W_ih_T = W_ih_T.reshape(D, 4, H).transpose(1, 0, 2)  # (4, D, H), a view
    W_hh_T = np.ascontiguousarray(
        W_hh_T.reshape(H, 4, H).transpose(1, 0, 2)
    )  # (4, H, H)
    return W_ih_T, W_hh_T, None if b is None else b.reshape(4, 1, H)


def lstm_layer_forward(
    x: Array,
    h0: Array,
    c0: Array,
    weight_ih: Array,
    weight_hh: Array,
    bias_ih: Array | None = None,
    bias_hh: Array | None = None,
    gates_buffer: Array | None = None,
) -> LayerCache:
    """Run one LSTM layer over a whole sequence: ``numpy_lstm.lstm_layer_forward``, fast.

    x: (T, B, D), time-major;  h0, c0: (B, H);  weights and biases as in ``lstm_cell_step``.
    All arrays share one float dtype and the computation stays in it (float32 math for a
    float32 model). Returns the layer's ``LayerCache``; its ``h`` (T, B, H) is the output.
    The numbers are those of the plain layer up to rounding; the module docstring lists
    the three tricks, and comments below mark where each is used.

    gates_buffer: optionally the ``gates`` of an earlier cache, to be overwritten instead of
    allocating a new (4, T, B, H) array; used if it has that shape, x's dtype and is
    contiguous (for B = 1 the buffer is small and always new). See ``FastLSTM``.

    The gate buffer first holds the hoisted products; each step overwrites its part with
    the activations, so the cache for the backward pass costs no extra memory. For a batch
    it is laid out gate first, (4, T, B, H), filled by one product per gate; for a single
    sequence step first, (T, 4, 1, H), the (T, 4H) of one product with all gates side by
    side, so that each step's gates are one block of 4H numbers. Either way the cache
    shows it as (4, T, B, H); for B = 1 it is a transposed view.
    """
    _check_fast_layer_forward(
        x, h0, c0, weight_ih, weight_hh, bias_ih, bias_hh, gates_buffer
    )
    T, B, D = x.shape
    H = weight_hh.shape[1]
    single = B == 1
    W_ih_T, W_hh_T, b = pack_weights(
        weight_ih, weight_hh, bias_ih, bias_hh, side_by_side=single
    )

    # Trick 1: the input projection of all time steps, before the loop.
    if single:
        # (T, D) @ (D, 4H) is small, so it is done in blocks of steps that OpenBLAS (NumPy's
        # BLAS) computes in the calling thread (trick 3). A product it splits over threads
        # has to wait for all of them, and while another program holds a core that wait can
        # take milliseconds, longer than the whole layer.
        steps_first = np.empty((T, 4 * H), dtype=x.dtype)
        # steps per block: at most 2**18 multiply-adds
        block = max(1, 2**18 // (D * 4 * H))
        x_2d = x.reshape(T, D)
        for start in range(0, T, block):
            rows = slice(start, start + block)
            np.matmul(x_2d[rows], W_ih_T, out=steps_first[rows])
        if b is not None:
            steps_first += b
        # (4, T, 1, H), a view
        gates = steps_first.reshape(T, 4, 1, H).transpose(1, 0, 2, 3)
    else:
        reusable = (
            gates_buffer is not None
            and gates_buffer.shape == (4, T, B, H)
            and gates_buffer.dtype == x.dtype
            and gates_buffer.flags.c_contiguous
        )
        if reusable:
            gates = gates_buffer
        else:
            gates = np.empty((4, T, B, H), dtype=x.dtype)
        # (4, T*B, H): one product per gate
        np.matmul(x.reshape(T * B, D), W_ih_T, out=gates.reshape(4, T * B, H))
        if b is not None:
            gates += b[:, None]  # + (4, 1, 1, H)

    # Trick 3: every result has its place before the loop starts.
    c = np.empty((T, B, H), dtype=x.dtype)
    h = np.empty((T, B, H), dtype=x.dtype)
    z = np.empty((4, B, H), dtype=x.dtype)  # scratch for h_{t-1} W_hh^T
    if single:
        # (4, 1, H) and (1, 4H) are the same memory: one vector-matrix
        # product, (1, H) @ (H, 4H).
        product, z_product = np.dot, z.reshape(1, 4 * H)
    else:
        # Four products, one per gate: (B, H) @ (4, H, H) gives (4, B, H).
        product, z_product = np.matmul, z

    # Trick 3: the views, made once, in the packed order i, f, o, g.
    i, f, o, g = gates  # each (T, B, H)
    gates_by_step = gates.transpose(1, 0, 2, 3)  # (T, 4, B, H)
    sigmoids_by_step = gates_by_step[:, :3]  # (T, 3, B, H): i, f, o

    # Trick 3: little Python work per step. 0.5 is a 0-d array rather than a Python float,
    # which NumPy would convert anew at every call; the NumPy functions get local names,
    # which Python finds faster than np.tanh and the like. new_cell_state and
    # new_hidden_state are written out (the same operations in the same order, so the
    # same numbers).
    half = np.asarray(0.5, dtype=x.dtype)
    add, multiply, tanh = np.add, np.multiply, np.tanh

    h_prev, c_prev = h0, c0
    steps = zip(gates_by_step, sigmoids_by_step, i, f, o, g, c, h, strict=True)
    for gates_t, sigmoids_t, i_t, f_t, o_t, g_t, c_t, h_t in steps:
        # z = h_{t-1} W_hh^T, the only product left, + the hoisted x_t W_ih^T + b
        product(h_prev, W_hh_T, out=z_product)
        add(z, gates_t, out=z)
        # Trick 2: tanh(z/2) for i, f, o and tanh(z) for g, in one call
        tanh(z, out=gates_t)
        # the sigmoids: 0.5 * tanh(z/2) + 0.5
        multiply(sigmoids_t, half, out=sigmoids_t)
        add(sigmoids_t, half, out=sigmoids_t)
        # new_cell_state: c_t = f * c_{t-1} + i * g
        multiply(f_t, c_prev, out=c_t)
        c_t += i_t * g_t
        # new_hidden_state: h_t = o * tanh(c_t)
        tanh(c_t, out=h_t)
        multiply(h_t, o_t, out=h_t)
        h_prev, c_prev = h_t, c_t
    return LayerCache(x=x, h0=h0, c0=c0, gates=gates, c=c, h=h)


def _check_fast_layer_forward(
    x, h0, c0, weight_ih, weight_hh, bias_ih, bias_hh, gates_buffer
) -> None:
    """The plain layer's checks, and gates_buffer None or a writeable array."""
    _check_layer_forward(x, h0, c0, weight_ih, weight_hh, bias_ih, bias_hh)
    if gates_buffer is not None:
        checks.array("gates_buffer", gates_buffer, nonempty=False)
        if not gates_buffer.flags.writeable:
            raise ValueError(
                "gates_buffer must be writeable: it is overwritten"
            )


class FastLSTM(LSTM):
    """``numpy_lstm.LSTM`` with the tuned layer: the same constructor, parameters, calls,
    cache and backward pass, the same results up to rounding.

    Each call writes its gate activations into the buffers of the previous call's cache
    (when the shapes match), so the cache is valid until the next call. For a big batch
    they are the largest arrays of the pass (4 * T * B * H numbers, 100 MB for T = 100,
    B = 128, H = 512), and fresh memory of that size costs the operating system about 5% of
    the pass to hand out.
    """

    def _forward_layers(
        self, x: Array, h0: Array, c0: Array
    ) -> list[LayerCache]:
        """As ``LSTM._forward_layers``, with the tuned layer and the previous call's gate
        buffers."""
        L = self.num_layers
        previous = [None] * L if self._cache is None else self._cache.layers
        self._cache = None  # its gate buffers are reused below
        layers = []
        for k in range(L):
            buffer = None if previous[k] is None else previous[k].gates
            params = self.layer_parameters(k)
            layer = lstm_layer_forward(
                x, h0[k], c0[k], *params, gates_buffer=buffer
            )
            layers.append(layer)
            x = layer.h
        return layers
