"""A character-level language model in NumPy: input layer -> LSTM -> softmax decoder.

For a batch of character ids ``ids`` of shape (T, B) (time-major, like ``bptt_batches``)
the model computes, at every position, a probability distribution over the next character:

1. **Input layer.** Each id becomes a vector x_t of size D. With ``embed_size=None`` it is
   the one-hot vector (D = V); otherwise it is row ``ids[t, b]`` of a learned embedding
   matrix of shape (V, E) (D = E). A one-hot vector times ``weight_ih_l0`` only picks a
   column of it, so the one-hot model is the embedding model with the embedding folded into
   the LSTM's first weight matrix.
2. **The LSTM** of Part I (``numpy_lstm_fast.FastLSTM``: Part I's ``numpy_lstm.LSTM`` with
   the tuned layer, tested equal), L layers of hidden size H, gives h_t.
3. **The decoder**, a linear layer, turns h_t into V scores ("logits"),
   ``z_t = h_t W_dec^T + b_dec``, and the softmax turns them into probabilities.

Training minimises the cross-entropy, the mean of ``-log p(next character)`` in nats.
The backward pass goes the same way in reverse: softmax and decoder here, the LSTM with
``bptt.lstm_backward``, and the embedding by adding each position's input gradient into the
row of its character.

Parameter names follow PyTorch's module names (``embedding.weight``, ``lstm.weight_ih_l0``,
``decoder.weight`` ...), so a torch model built from ``nn.Embedding``, ``nn.LSTM`` and
``nn.Linear`` under those attribute names loads this model's ``state_dict()`` directly.

``CharRNN`` is the same model with a plain tanh RNN (``torch.nn.RNN``'s layer) in place of
the LSTM, for the measured comparison of Part II: ``rnn_layer_forward`` and
``rnn_layer_backward`` are its layer, forward and backward through time; its state is h
alone, one array (L, B, H), and its parameters are named ``rnn.weight_ih_l0`` and so on.
``MODELS`` maps a cell name ("lstm", "rnn") to the class.

Every public function and method checks its arguments first, with
:mod:`lstm_tutorial.checks`, and raises a TypeError or ValueError that names the argument:
ids that are not integer arrays (or lists of ints) of shape (T, B), or lie outside
[0, vocab_size); logits that are not floating-point arrays; a state that is not a pair of
arrays (for ``CharRNN``: one array) of the model's dtype and shape (L, B, H) for the batch
at hand; a dtype that is not np.float32 or np.float64; RNN layer arrays of other shapes
or dtypes than x's. The functions shown in the book (``log_softmax``, ``cross_entropy``,
``CharLM.embed``, ``forward``, ``backward``, ``step``, ``rnn_layer_forward``,
``rnn_layer_backward``) do it in one line that calls a private check. Logits, losses and
gradients may hold NaN or inf (a diverging run produces them), so that the training loop
can report the divergence itself.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

from lstm_tutorial import checks
from lstm_tutorial.bptt import lstm_backward
from lstm_tutorial.decoding import _check_rows
from lstm_tutorial.numpy_lstm import lstm_cell_step
from lstm_tutorial.numpy_lstm_fast import FastLSTM as LSTM  # Part I's, tuned

Array = NDArray[np.floating]
State = tuple[Array, Array]  # (h, c), each (L, B, H)
IntArray = NDArray[np.integer]


# ---------------------------------------------------------------------------------------------
# Softmax, cross-entropy and the three ways of reporting it
# ---------------------------------------------------------------------------------------------


def log_softmax(logits: Array) -> Array:
    """log softmax over the last axis, computed stably.

    logits: (..., V), float. Returns log-probabilities of the same shape
    and dtype: z - max(z) - log(sum(exp(z - max(z)))). Shifting by the
    maximum changes nothing mathematically but keeps exp from overflowing.
    """
    _check_logits(logits)
    shifted = logits - logits.max(axis=-1, keepdims=True)  # largest is 0
    log_total = np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    return shifted - log_total


def cross_entropy(logits: Array, targets: IntArray) -> tuple[float, Array]:
    """Mean cross-entropy (nats) of the targets, and its gradient.

    logits: (T, B, V) float;  targets: (T, B) int in [0, V).
    Returns ``(loss, grad_logits)``: the mean of -log p(target) as a
    Python float (averaged in float64), and dloss/dlogits, (T, B, V) in
    the logits' dtype, which is (softmax - one_hot(targets)) / (T * B).
    """
    targets = _check_targets(logits, targets)
    log_p = log_softmax(logits)  # (T, B, V)
    picked = np.take_along_axis(log_p, targets[..., None], axis=-1)
    loss = -float(picked.mean(dtype=np.float64))  # picked: (T, B, 1)
    grad = np.exp(log_p)  # the softmax, (T, B, V), a new array
    rows = grad.reshape(-1, grad.shape[-1])  # (T*B, V), a view of grad
    rows[np.arange(targets.size), targets.reshape(-1)] -= 1.0
    grad /= targets.size  # the loss is a mean over T * B positions
    return loss, grad


def _check_logits(logits: Any) -> Array:
    logits = checks.array("logits", logits, kind="float")
    if logits.ndim == 0:
        raise ValueError(
            "logits must have shape (..., V), one score per id, got a 0-d array"
        )
    return logits


def _check_targets(logits: Any, targets: Any) -> IntArray:
    """Logits (..., V) and targets of the logits' shape without V, ids in [0, V)."""
    logits = _check_logits(logits)
    targets = checks.ids("targets", targets, logits.shape[-1])
    if targets.shape != logits.shape[:-1]:
        raise ValueError(
            f"targets must have shape {logits.shape[:-1]} (the logits' shape without V), "
            f"got {targets.shape}"
        )
    return targets


def _check_nats(nats: Any) -> float:
    """A cross-entropy: a real number >= 0; inf and NaN (a diverged loss) pass through."""
    if isinstance(nats, float | np.floating) and math.isnan(nats):
        return math.nan
    return checks.number(
        "nats (a cross-entropy)", nats, minimum=0.0, finite=False
    )


def bits_per_char(nats: float) -> float:
    """Cross-entropy in bits per character: nats / ln 2. ``nats`` >= 0; inf and NaN (a
    diverged loss) pass through, so that the caller can report the divergence."""
    return _check_nats(nats) / math.log(2)


def perplexity(nats: float) -> float:
    """Perplexity exp(cross-entropy): the model is as unsure as a uniform
    choice among this many characters (inf beyond the largest float; NaN
    passes through, as in ``bits_per_char``)."""
    nats = _check_nats(nats)
    try:
        return math.exp(nats)
    except OverflowError:
        return math.inf


# ---------------------------------------------------------------------------------------------
# The model
# ---------------------------------------------------------------------------------------------


class CharLM:
    """Character language model: one-hot or embedding input, an LSTM, a linear softmax decoder.

    ``vocab_size`` V; ``embed_size`` E, or None for one-hot input; ``hidden_size`` H;
    ``num_layers`` L. Parameters (name: shape), all in ``dtype`` (float32 or float64):

    - ``embedding.weight``: (V, E), drawn from N(0, 1) like ``torch.nn.Embedding`` (absent
      for one-hot input);
    - ``lstm.weight_ih_l{k}``, ``lstm.weight_hh_l{k}``, ``lstm.bias_ih_l{k}``,
      ``lstm.bias_hh_l{k}``: the LSTM's, as in ``numpy_lstm.LSTM``;
    - ``decoder.weight``: (V, H) and ``decoder.bias``: (V,), uniform on
      [-1/sqrt(H), 1/sqrt(H)] like ``torch.nn.Linear``.

    The same ``seed`` gives the same parameters.
    """

    def __init__(
        self,
        vocab_size: int,
        embed_size: int | None,
        hidden_size: int,
        num_layers: int = 1,
        dtype: Any = np.float32,
        seed: int = 0,
    ) -> None:
        self.vocab_size = checks.positive_int("vocab_size", vocab_size)
        self.embed_size = checks.optional(
            checks.positive_int, "embed_size", embed_size
        )
        self.hidden_size = checks.positive_int("hidden_size", hidden_size)
        num_layers = checks.positive_int("num_layers", num_layers)
        dtype = checks.numpy_float_dtype("dtype", dtype)
        seed = checks.seed("seed", seed)
        rng = np.random.default_rng(seed)
        self.num_layers, self.dtype = num_layers, dtype
        D = self.vocab_size if self.embed_size is None else self.embed_size
        self._init_recurrent(
            D, rng
        )  # first, so that a seed gives the same weights
        V, H = self.vocab_size, self.hidden_size
        self.embedding = None
        if self.embed_size is not None:
            self.embedding = rng.standard_normal((V, self.embed_size)).astype(
                self.dtype
            )
        bound = 1.0 / math.sqrt(H)
        self.decoder_weight = rng.uniform(-bound, bound, (V, H)).astype(
            self.dtype
        )
        self.decoder_bias = rng.uniform(-bound, bound, V).astype(self.dtype)
        self._cache: tuple[NDArray[np.integer], Array] | None = None

    #: The recurrent cell: ``MODELS[cell]`` is the class (``CharRNN`` has "rnn").
    cell = "lstm"

    def _init_recurrent(
        self, input_size: int, rng: np.random.Generator
    ) -> None:
        """The recurrent layers, drawn from ``rng``: the LSTM of Part I."""
        self.lstm = LSTM(
            input_size,
            self.hidden_size,
            self.num_layers,
            dtype=self.dtype,
            rng=rng,
        )

    def _recurrent_parameters(self) -> dict[str, Array]:
        return {f"lstm.{name}": p for name, p in self.lstm.named_parameters()}

    def __repr__(self) -> str:
        inp = (
            "one-hot"
            if self.embed_size is None
            else f"embed_size={self.embed_size}"
        )
        return (
            f"{type(self).__name__}(vocab_size={self.vocab_size}, {inp}, "
            f"hidden_size={self.hidden_size}, num_layers={self.num_layers}, dtype={self.dtype})"
        )

    @property
    def config(self) -> dict[str, Any]:
        """The constructor's arguments (without the seed; the dtype as a string) and the cell
        (``MODELS[cell]`` is the class), e.g. to save with a checkpoint."""
        return {
            "cell": self.cell,
            "vocab_size": self.vocab_size,
            "embed_size": self.embed_size,
            "hidden_size": self.hidden_size,
            "num_layers": self.num_layers,
            "dtype": str(self.dtype),
        }

    # -- parameters ----------------------------------------------------------------------------

    def parameters(self) -> dict[str, Array]:
        """Name -> parameter array, the arrays themselves (an optimizer updates them in place)."""
        params: dict[str, Array] = {}
        if self.embedding is not None:
            params["embedding.weight"] = self.embedding
        params |= self._recurrent_parameters()
        params["decoder.weight"] = self.decoder_weight
        params["decoder.bias"] = self.decoder_bias
        return params

    def num_parameters(self) -> int:
        """The number of scalars the model learns."""
        return sum(p.size for p in self.parameters().values())

    def state_dict(self) -> dict[str, Array]:
        """Copies of the parameters, keyed like the equivalent torch module's ``state_dict()``."""
        return {name: p.copy() for name, p in self.parameters().items()}

    def load_state_dict(self, state_dict: Mapping[str, Any]) -> None:
        """Copy parameters in (keys and shapes must match exactly; values cast to the dtype).

        Accepts this model's ``state_dict()`` or a torch module's: every value a finite
        floating-point NumPy array or torch tensor. Nothing changes unless every entry is
        valid.
        """
        checks.mapping("state_dict", state_dict)
        params = self.parameters()
        if set(state_dict) != set(params):
            raise ValueError(
                f"state_dict keys do not match the model: missing "
                f"{sorted(set(params) - set(state_dict))}, "
                f"unexpected {sorted(set(state_dict) - set(params), key=str)}"
            )
        arrays = {}
        for name, p in params.items():
            value = state_dict[name]
            if hasattr(value, "detach") and hasattr(
                value, "numpy"
            ):  # a torch tensor
                value = value.detach().cpu().numpy()
            where = f"state_dict[{name!r}]"
            arrays[name] = checks.array(
                where,
                value,
                kind="float",
                shape=p.shape,
                nonempty=False,
                finite=True,
            )
            checks.fits_dtype(where, value, p.dtype)
        for name, value in arrays.items():
            params[name][...] = value

    # -- checks shared by the entry points -----------------------------------------------------

    def _check_ids(
        self, ids: Any, name: str = "ids", ndim: int = 2
    ) -> IntArray:
        """Ids in [0, V): an integer array (or a list of ints) of shape (T, B), or (B,)."""
        ids = checks.ids(name, ids, self.vocab_size)
        if ids.ndim != ndim:
            shape = (
                "(T, B), time-major like bptt_batches" if ndim == 2 else "(B,)"
            )
            raise ValueError(
                f"{name} must have shape {shape}, got shape {ids.shape}"
            )
        return ids

    def _check_state(
        self, state: Any, batch_size: int, name: str = "state"
    ) -> State:
        """A pair (h, c) of finite arrays of the model's dtype, each (L, batch_size, H)."""
        pair = checks.sequence(name, state)
        if len(pair) != 2:
            raise ValueError(
                f"{name} must be a pair (h, c), got {len(pair)} items"
            )
        shape = (self.num_layers, batch_size, self.hidden_size)
        for part, value in zip(("h", "c"), pair, strict=True):
            where = f"{name}[{0 if part == 'h' else 1}] ({part})"
            value = checks.array(where, value, dtype=self.dtype, finite=True)
            if value.shape != shape:
                raise ValueError(
                    f"{where} must have shape (L, B, H) = {shape} for this model and a batch "
                    f"of {batch_size}, got {value.shape}"
                )
        return pair[0], pair[1]

    def _check_inputs(
        self, ids: Any, state: Any, name: str = "ids"
    ) -> tuple[IntArray, Any]:
        ids = self._check_ids(ids, name)
        if state is not None:
            state = self._check_state(state, ids.shape[1])
        return ids, state

    def _check_batch(self, inputs: Any, targets: Any, state: Any) -> IntArray:
        inputs, _ = self._check_inputs(inputs, state, "inputs")
        targets = self._check_ids(targets, "targets")
        if targets.shape != inputs.shape:
            raise ValueError(
                f"targets must have the shape of inputs, {inputs.shape}, got {targets.shape}"
            )
        return targets

    def _check_grad_logits(self, grad_logits: Any) -> tuple[IntArray, Array]:
        if self._cache is None:
            raise ValueError("backward needs a forward pass first")
        ids, h = self._cache
        shape = (*ids.shape, self.vocab_size)
        checks.array("grad_logits", grad_logits, dtype=self.dtype, shape=shape)
        return ids, h

    # -- forward and backward ------------------------------------------------------------------

    def embed(self, ids: NDArray[np.integer]) -> Array:
        """The LSTM's input x for ids (T, B): (T, B, D), in the model's dtype.

        Embedding rows (D = E), or one-hot vectors (D = V) without embedding.
        """
        ids = self._check_ids(ids)
        if self.embedding is not None:
            return self.embedding[ids]  # (T, B, E): row ids[t, b]
        V = self.vocab_size
        one_hot = np.zeros((*ids.shape, V), dtype=self.dtype)  # (T, B, V)
        np.put_along_axis(one_hot, ids[..., None], 1.0, axis=-1)
        return one_hot

    def forward(
        self,
        ids: IntArray,
        state: State | None = None,
    ) -> tuple[Array, State]:
        """Scores for the next character at every position.

        ids: (T, B) int in [0, V); state: (h0, c0), each (L, B, H), or
        None for zeros. Returns ``logits, (h_n, c_n)``: logits (T, B, V)
        in the model's dtype, and the final states (new arrays) that the
        next batch starts from. Keeps a cache for ``backward``.
        """
        ids, state = self._check_inputs(ids, state)
        x = self.embed(ids)  # (T, B, D)
        h, new_state = self.lstm(x, state)  # h: (T, B, H)
        z = h @ self.decoder_weight.T + self.decoder_bias  # (T, B, V)
        self._cache = (ids, h)
        return z, new_state

    __call__ = forward

    def backward(self, grad_logits: Array) -> dict[str, Array]:
        """Gradients of all parameters from dloss/dlogits (T, B, V).

        Uses the cache of the last ``forward``. Returns a dict keyed like
        ``parameters()``. The gradient stops at the initial state: with
        truncated BPTT it came from the previous batch, a constant here.
        """
        ids, h = self._check_grad_logits(grad_logits)  # (T, B) and (T, B, H)
        T, B, H = h.shape
        # The decoder z = h W^T + b, every position (t, b) one row.
        dz = grad_logits.reshape(T * B, self.vocab_size)  # (T*B, V)
        grad_decoder_weight = dz.T @ h.reshape(T * B, H)  # (V, H)
        grad_decoder_bias = dz.sum(axis=0)  # (V,)
        dh = grad_logits @ self.decoder_weight  # (T, B, H)
        # The LSTM: backpropagation through time.
        dx = lstm_backward(self.lstm, dh)  # (T, B, D)
        grads: dict[str, Array] = {}
        if self.embedding is not None:
            # Row ids[t, b] was the input at (t, b): a row's gradient
            # sums dx over every position where its character occurs.
            grad_embedding = np.zeros_like(self.embedding)  # (V, E)
            np.add.at(grad_embedding, ids.reshape(-1), dx.reshape(T * B, -1))
            grads["embedding.weight"] = grad_embedding
        for name, grad in self.lstm.grads.items():
            grads[f"lstm.{name}"] = grad
        grads["decoder.weight"] = grad_decoder_weight
        grads["decoder.bias"] = grad_decoder_bias
        return grads

    def loss(
        self,
        inputs: NDArray[np.integer],
        targets: NDArray[np.integer],
        state: State | None = None,
    ) -> tuple[float, State]:
        """Mean cross-entropy (nats) of ``targets`` (T, B) given ``inputs`` (T, B); no gradients."""
        targets = self._check_batch(inputs, targets, state)
        logits, new_state = self.forward(inputs, state)
        return cross_entropy(logits, targets)[0], new_state

    def loss_and_grads(
        self,
        inputs: IntArray,
        targets: IntArray,
        state: State | None = None,
    ) -> tuple[float, dict[str, Array], State]:
        """Loss, gradients and final state for one batch.

        inputs, targets: (T, B) int, targets[t] the character after
        inputs[t]; state: (h0, c0), each (L, B, H), or None for zeros.
        Returns ``loss, grads, (h_n, c_n)``: the mean cross-entropy in
        nats, a dict keyed like ``parameters()``, and the final states.
        """
        targets = self._check_batch(inputs, targets, state)
        logits, new_state = self.forward(inputs, state)
        loss, grad_logits = cross_entropy(logits, targets)
        return loss, self.backward(grad_logits), new_state

    # -- one step at a time, for generating text (see lstm_tutorial.decoding) ------------------

    def start_state(self, batch_size: int = 1) -> State:
        """Zero states ``(h0, c0)``, each (L, batch_size, H)."""
        batch_size = checks.positive_int("batch_size", batch_size)
        shape = (self.num_layers, batch_size, self.hidden_size)
        return np.zeros(shape, dtype=self.dtype), np.zeros(
            shape, dtype=self.dtype
        )

    def step(
        self,
        ids: IntArray,
        state: State,
    ) -> tuple[NDArray[np.float64], State]:
        """Feed one character per sequence.

        ids: (B,) int; state: (h, c), each (L, B, H). Returns the
        log-probabilities of the next character, (B, V) float64, and the
        new state (new arrays; ``state`` is not modified).
        """
        ids, (h, c) = self._check_step(ids, state)  # ids: (B,)
        x = self.embed(ids[None])[0]  # (B, D)
        new_h, new_c = [], []
        for k in range(self.num_layers):
            weights = self.lstm.layer_parameters(k)
            h_k, c_k, _ = lstm_cell_step(x, h[k], c[k], *weights)
            new_h.append(h_k)
            new_c.append(c_k)
            x = h_k  # the next layer reads this layer's hidden state
        z = x @ self.decoder_weight.T + self.decoder_bias  # (B, V)
        new_state = (np.stack(new_h), np.stack(new_c))
        return log_softmax(z.astype(np.float64)), new_state

    def _check_step(self, ids: Any, state: Any) -> tuple[IntArray, State]:
        ids = self._check_ids(ids, ndim=1)
        return ids, self._check_state(state, len(ids))

    @staticmethod
    def select_state(state: State, rows: NDArray[np.integer]) -> State:
        """The states of the sequences ``rows`` (in that order), e.g. to reorder beams.

        state: (h, c), each (L, B, H); rows: a 1-D integer array of sequences in [0, B).
        """
        pair = checks.sequence("state", state)
        if len(pair) != 2:
            raise ValueError(
                f"state must be a pair (h, c), got {len(pair)} items"
            )
        h = checks.array("state[0] (h)", pair[0], kind="float", ndim=3)
        c = checks.array("state[1] (c)", pair[1], kind="float", ndim=3)
        if c.shape != h.shape or c.dtype != h.dtype:
            raise ValueError(
                f"state[1] (c) must have the shape and dtype of state[0] (h), {h.shape} "
                f"{h.dtype}, got {c.shape} {c.dtype}"
            )
        rows = _check_rows(rows, h.shape[1])
        return h[:, rows], c[:, rows]


# ---------------------------------------------------------------------------------------------
# The same model with a plain RNN, to measure what the LSTM's gates buy
# ---------------------------------------------------------------------------------------------


def rnn_layer_forward(
    x: Array,
    h0: Array,
    weight_ih: Array,
    weight_hh: Array,
    bias_ih: Array,
    bias_hh: Array,
) -> Array:
    """One tanh RNN layer over a sequence, as ``torch.nn.RNN`` computes it.

    x: (T, B, D); h0: (B, H); weight_ih: W (H, D); weight_hh: U (H, H);
    bias_ih, bias_hh: (H,). Returns h, (T, B, H), where h[t - 1] is
        h_t = tanh(x_t W^T + b_ih + h_{t-1} U^T + b_hh).
    """
    _check_rnn_layer(x, h0, weight_ih, weight_hh, bias_ih, bias_hh)
    xw = x @ weight_ih.T + bias_ih + bias_hh  # (T, B, H), no recurrence
    h = np.empty(xw.shape, dtype=x.dtype)
    h_t = h0
    for t in range(len(x)):  # the recurrence: one step after the other
        h_t = np.tanh(xw[t] + h_t @ weight_hh.T)
        h[t] = h_t
    return h


def rnn_layer_backward(
    x: Array,
    h0: Array,
    h: Array,
    weight_ih: Array,
    weight_hh: Array,
    dh: Array,
) -> tuple[Array, dict[str, Array]]:
    """Backpropagation through time for ``rnn_layer_forward``.

    x, h0, h: that call's input, initial state and result; dh: dL/dh,
    (T, B, H), the gradient from above. The gradient stops at h0.
    Returns ``dx, grads``: dL/dx (T, B, D), and the gradients of
    weight_ih, weight_hh, bias_ih and bias_hh under those names.
    """
    _check_rnn_backward(x, h0, h, weight_ih, weight_hh, dh)
    dz = np.empty_like(h)  # dL/dz_t, z_t the argument of tanh
    dh_later = np.zeros_like(h0)  # dL/dh_t through h_{t+1}
    for t in reversed(range(len(h))):  # last step first
        dz[t] = (dh[t] + dh_later) * (1.0 - h[t] ** 2)  # tanh' = 1 - tanh^2
        dh_later = dz[t] @ weight_hh  # z_t = ... + h_{t-1} U^T
    h_prev = np.concatenate([h0[None], h[:-1]])  # h_{t-1}, (T, B, H)
    rows = dz.reshape(-1, dz.shape[-1])  # (T*B, H): one row per (t, b)
    grads = {
        "weight_ih": rows.T @ x.reshape(len(rows), -1),  # (H, D)
        "weight_hh": rows.T @ h_prev.reshape(len(rows), -1),  # (H, H)
        "bias_ih": rows.sum(axis=0),  # (H,)
    }
    grads["bias_hh"] = grads["bias_ih"].copy()  # both biases add to z
    return dz @ weight_ih, grads  # dx: (T, B, D)


#: _check_rnn_layer without biases (the backward pass has none)
_NO_BIAS = object()


def _check_rnn_layer(
    x: Any,
    h0: Any,
    weight_ih: Any,
    weight_hh: Any,
    bias_ih: Any = _NO_BIAS,
    bias_hh: Any = _NO_BIAS,
    **more: Any,
) -> None:
    """x: a float array (T, B, D) of float32 or float64; h0: (B, H); then W (H, D), U (H, H),
    the biases (H,) unless left out, and ``more`` arrays (T, B, H): all of x's dtype."""
    x = checks.array("x", x, kind="float", ndim=3)
    checks.numpy_float_dtype("x.dtype", x.dtype)
    T, B, D = x.shape
    h0 = checks.array("h0", h0, kind="float", ndim=2)
    H = h0.shape[1]
    expected = {
        "h0": (h0, (B, H)),
        "weight_ih": (weight_ih, (H, D)),
        "weight_hh": (weight_hh, (H, H)),
    }
    if bias_ih is not _NO_BIAS:
        expected |= {"bias_ih": (bias_ih, (H,)), "bias_hh": (bias_hh, (H,))}
    expected |= {name: (value, (T, B, H)) for name, value in more.items()}
    for name, (value, shape) in expected.items():
        value = checks.array(name, value, kind="float")
        if value.dtype != x.dtype:
            raise checks.ArgumentTypeError(
                f"{name} must have the dtype of x, {x.dtype}, got {value.dtype}; "
                "nothing is cast silently"
            )
        if value.shape != shape:
            raise ValueError(
                f"{name} must have shape {shape} for x of shape {x.shape} and h0 of "
                f"shape {h0.shape} (T, B, D = {T}, {B}, {D}; H = {H}), got {value.shape}"
            )


def _check_rnn_backward(
    x: Any, h0: Any, h: Any, weight_ih: Any, weight_hh: Any, dh: Any
) -> None:
    """The forward pass's arrays, and h and dh of shape (T, B, H), all of x's dtype."""
    _check_rnn_layer(x, h0, weight_ih, weight_hh, h=h, dh=dh)


class CharRNN(CharLM):
    """The character model with a plain tanh RNN in place of the LSTM.

    The input layer, the decoder, the loss and the training are ``CharLM``'s. The L
    recurrent layers are ``torch.nn.RNN``'s (tanh): h_t = tanh(x_t W^T + b_ih + h_{t-1}
    U^T + b_hh), with its parameter names under ``rnn.`` (``rnn.weight_ih_l0`` (H, D),
    ``rnn.weight_hh_l0`` (H, H), ``rnn.bias_ih_l0``, ``rnn.bias_hh_l0`` (H,), ...) and its
    start, uniform on [-1/sqrt(H), 1/sqrt(H)]. The state is h alone, one array (L, B, H),
    where the LSTM's is the pair (h, c). The arguments are ``CharLM``'s.
    """

    cell = "rnn"

    def _init_recurrent(
        self, input_size: int, rng: np.random.Generator
    ) -> None:
        H, bound = self.hidden_size, 1.0 / math.sqrt(self.hidden_size)
        self.rnn: dict[str, Array] = {}
        for k in range(self.num_layers):
            D = input_size if k == 0 else H
            shapes = {
                "weight_ih": (H, D),
                "weight_hh": (H, H),
                "bias_ih": (H,),
                "bias_hh": (H,),
            }
            for name, shape in shapes.items():  # torch.nn.RNN's order
                self.rnn[f"{name}_l{k}"] = rng.uniform(
                    -bound, bound, shape
                ).astype(self.dtype)
        self._layers: list[
            tuple[Array, Array, Array]
        ] = []  # (x, h0, h) of each layer

    def _recurrent_parameters(self) -> dict[str, Array]:
        return {f"rnn.{name}": p for name, p in self.rnn.items()}

    def _layer(self, k: int) -> tuple[Array, Array, Array, Array]:
        """(weight_ih, weight_hh, bias_ih, bias_hh) of layer k."""
        names = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
        w_ih, w_hh, b_ih, b_hh = (self.rnn[f"{name}_l{k}"] for name in names)
        return w_ih, w_hh, b_ih, b_hh

    def _check_state(
        self, state: Any, batch_size: int, name: str = "state"
    ) -> Array:
        """h: a finite array of the model's dtype, (L, batch_size, H)."""
        if isinstance(state, tuple | list):
            raise checks.ArgumentTypeError(
                f"{name} must be one array h of shape (L, B, H) (a plain RNN has no cell "
                f"state c), got a {type(state).__name__} of {len(state)} items"
            )
        shape = (self.num_layers, batch_size, self.hidden_size)
        h = checks.array(name, state, dtype=self.dtype, finite=True)
        if h.shape != shape:
            raise ValueError(
                f"{name} must have shape (L, B, H) = {shape} for this model and a batch of "
                f"{batch_size}, got {h.shape}"
            )
        return h

    def forward(
        self, ids: IntArray, state: Array | None = None
    ) -> tuple[Array, Array]:
        """Scores for the next character at every position.

        ids: (T, B) int in [0, V); state: h0, (L, B, H), or None for
        zeros. Returns ``logits, h_n``: logits (T, B, V) and the final
        states (L, B, H). Keeps a cache for ``backward``.
        """
        ids, h0 = self._check_inputs(ids, state)
        if h0 is None:
            h0 = self.start_state(ids.shape[1])
        x = self.embed(ids)  # (T, B, D)
        self._layers = []
        for k in range(self.num_layers):  # each layer reads the one below
            h = rnn_layer_forward(x, h0[k], *self._layer(k))
            self._layers.append((x, h0[k], h))
            x = h
        z = h @ self.decoder_weight.T + self.decoder_bias  # (T, B, V)
        self._cache = (ids, h)
        return z, np.stack([h[-1] for _, _, h in self._layers])

    __call__ = forward

    def backward(self, grad_logits: Array) -> dict[str, Array]:
        """Gradients of all parameters from dloss/dlogits (T, B, V).

        Uses the cache of the last ``forward``; the decoder and the
        embedding as in ``CharLM.backward``, the RNN layers in between.
        Returns a dict keyed like ``parameters()``.
        """
        ids, h = self._check_grad_logits(grad_logits)  # (T, B) and (T, B, H)
        T, B, H = h.shape
        dz = grad_logits.reshape(T * B, self.vocab_size)  # (T*B, V)
        grads = {
            "decoder.weight": dz.T @ h.reshape(T * B, H),  # (V, H)
            "decoder.bias": dz.sum(axis=0),  # (V,)
        }
        dx = grad_logits @ self.decoder_weight  # dL/dh of the top layer
        for k in reversed(range(self.num_layers)):  # top layer first
            x, h0, h = self._layers[k]
            w_ih, w_hh, _, _ = self._layer(k)
            dx, layer = rnn_layer_backward(x, h0, h, w_ih, w_hh, dx)
            grads |= {f"rnn.{name}_l{k}": g for name, g in layer.items()}
        if self.embedding is not None:  # dx: (T, B, E)
            grad_embedding = np.zeros_like(self.embedding)  # (V, E)
            np.add.at(grad_embedding, ids.reshape(-1), dx.reshape(T * B, -1))
            grads["embedding.weight"] = grad_embedding
        return {name: grads[name] for name in self.parameters()}

    def start_state(self, batch_size: int = 1) -> Array:
        """The zero state h0, (L, batch_size, H)."""
        batch_size = checks.positive_int("batch_size", batch_size)
        shape = (self.num_layers, batch_size, self.hidden_size)
        return np.zeros(shape, dtype=self.dtype)

    def step(
        self, ids: IntArray, state: Array
    ) -> tuple[NDArray[np.float64], Array]:
        """Feed one character per sequence.

        ids: (B,) int; state: h, (L, B, H). Returns the log-probabilities
        of the next character, (B, V) float64, and the new state.
        """
        ids, h = self._check_step(ids, state)  # ids: (B,)
        x = self.embed(ids[None])[0]  # (B, D)
        new_h = []
        for k in range(self.num_layers):
            w_ih, w_hh, b_ih, b_hh = self._layer(k)
            x = np.tanh(x @ w_ih.T + b_ih + b_hh + h[k] @ w_hh.T)
            new_h.append(x)
        z = x @ self.decoder_weight.T + self.decoder_bias  # (B, V)
        return log_softmax(z.astype(np.float64)), np.stack(new_h)

    @staticmethod
    def select_state(state: Array, rows: NDArray[np.integer]) -> Array:
        """The states of the sequences ``rows`` (in that order).

        state: h, (L, B, H); rows: a 1-D integer array of sequences in [0, B).
        """
        h = checks.array("state", state, kind="float", ndim=3)
        return h[:, _check_rows(rows, h.shape[1])]


#: The character models by cell: ``MODELS[config["cell"]]`` builds one from its ``config``.
MODELS: dict[str, type[CharLM]] = {"lstm": CharLM, "rnn": CharRNN}
