"""A character-level language model in NumPy: input layer -> LSTM -> softmax decoder.

For a batch of character ids ``ids`` of shape (T, B) (time-major, like ``bptt_batches``)
the model computes, at every position, a probability distribution over the next character:

1. **Input layer.** Each id becomes a vector x_t of size D. With ``embed_size=None`` it is
   the one-hot vector (D = V); otherwise it is row ``ids[t, b]`` of a learned embedding
   matrix of shape (V, E) (D = E). A one-hot vector times ``weight_ih_l0`` only picks a
   column of it, so the one-hot model is the embedding model with the embedding folded into
   the LSTM's first weight matrix.
2. **The LSTM** of Part I (``numpy_lstm.LSTM``), L layers of hidden size H, gives h_t.
3. **The decoder**, a linear layer, turns h_t into V scores ("logits"),
   ``z_t = h_t W_dec^T + b_dec``, and the softmax turns them into probabilities.

Training minimises the cross-entropy, the mean of ``-log p(next character)`` in nats.
The backward pass goes the same way in reverse: softmax and decoder here, the LSTM with
``bptt.lstm_backward``, and the embedding by adding each position's input gradient into the
row of its character.

Parameter names follow PyTorch's module names (``embedding.weight``, ``lstm.weight_ih_l0``,
``decoder.weight`` ...), so a torch model built from ``nn.Embedding``, ``nn.LSTM`` and
``nn.Linear`` under those attribute names loads this model's ``state_dict()`` directly.

Every public function and method checks its arguments first, with
:mod:`lstm_tutorial.checks`, and raises a TypeError or ValueError that names the argument:
ids that are not integer arrays (or lists of ints) of shape (T, B), or lie outside
[0, vocab_size); logits that are not floating-point arrays; a state that is not a pair of
arrays of the model's dtype and shape (L, B, H) for the batch at hand; a dtype that is not
np.float32 or np.float64. The functions shown in the book (``log_softmax``,
``cross_entropy``, ``CharLM.embed``, ``forward``, ``backward``, ``step``) do it in one line
that calls a private check. Logits, losses and gradients may hold NaN or inf (a diverging
run produces them), so that the training loop can report the divergence itself.
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
from lstm_tutorial.numpy_lstm import LSTM, lstm_cell_step

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
        raise ValueError("logits must have shape (..., V), one score per id, got a 0-d array")
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
    return checks.number("nats (a cross-entropy)", nats, minimum=0.0, finite=False)


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
        self.embed_size = checks.optional(checks.positive_int, "embed_size", embed_size)
        self.hidden_size = checks.positive_int("hidden_size", hidden_size)
        num_layers = checks.positive_int("num_layers", num_layers)
        dtype = checks.numpy_float_dtype("dtype", dtype)
        seed = checks.seed("seed", seed)
        rng = np.random.default_rng(seed)
        D = self.vocab_size if self.embed_size is None else self.embed_size
        self.lstm = LSTM(D, self.hidden_size, num_layers, dtype=dtype, rng=rng)
        self.num_layers, self.dtype = self.lstm.num_layers, self.lstm.dtype
        V, H = self.vocab_size, self.hidden_size
        self.embedding = None
        if self.embed_size is not None:
            self.embedding = rng.standard_normal((V, self.embed_size)).astype(self.dtype)
        bound = 1.0 / math.sqrt(H)
        self.decoder_weight = rng.uniform(-bound, bound, (V, H)).astype(self.dtype)
        self.decoder_bias = rng.uniform(-bound, bound, V).astype(self.dtype)
        self._cache: tuple[NDArray[np.integer], Array] | None = None

    def __repr__(self) -> str:
        inp = "one-hot" if self.embed_size is None else f"embed_size={self.embed_size}"
        return (
            f"CharLM(vocab_size={self.vocab_size}, {inp}, hidden_size={self.hidden_size}, "
            f"num_layers={self.num_layers}, dtype={self.dtype})"
        )

    @property
    def config(self) -> dict[str, Any]:
        """The constructor's arguments (without the seed), e.g. to save with a checkpoint."""
        return {
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
        params |= {f"lstm.{name}": p for name, p in self.lstm.named_parameters()}
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
            if hasattr(value, "detach") and hasattr(value, "numpy"):  # a torch tensor
                value = value.detach().cpu().numpy()
            where = f"state_dict[{name!r}]"
            arrays[name] = checks.array(
                where, value, kind="float", shape=p.shape, nonempty=False, finite=True
            )
            checks.fits_dtype(where, value, p.dtype)
        for name, value in arrays.items():
            params[name][...] = value

    # -- checks shared by the entry points -----------------------------------------------------

    def _check_ids(self, ids: Any, name: str = "ids", ndim: int = 2) -> IntArray:
        """Ids in [0, V): an integer array (or a list of ints) of shape (T, B), or (B,)."""
        ids = checks.ids(name, ids, self.vocab_size)
        if ids.ndim != ndim:
            shape = "(T, B), time-major like bptt_batches" if ndim == 2 else "(B,)"
            raise ValueError(f"{name} must have shape {shape}, got shape {ids.shape}")
        return ids

    def _check_state(self, state: Any, batch_size: int, name: str = "state") -> State:
        """A pair (h, c) of finite arrays of the model's dtype, each (L, batch_size, H)."""
        pair = checks.sequence(name, state)
        if len(pair) != 2:
            raise ValueError(f"{name} must be a pair (h, c), got {len(pair)} items")
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

    def _check_inputs(self, ids: Any, state: Any, name: str = "ids") -> tuple[IntArray, Any]:
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
        self, inputs: NDArray[np.integer], targets: NDArray[np.integer], state: State | None = None
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
        return np.zeros(shape, dtype=self.dtype), np.zeros(shape, dtype=self.dtype)

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
            raise ValueError(f"state must be a pair (h, c), got {len(pair)} items")
        h = checks.array("state[0] (h)", pair[0], kind="float", ndim=3)
        c = checks.array("state[1] (c)", pair[1], kind="float", ndim=3)
        if c.shape != h.shape or c.dtype != h.dtype:
            raise ValueError(
                f"state[1] (c) must have the shape and dtype of state[0] (h), {h.shape} "
                f"{h.dtype}, got {c.shape} {c.dtype}"
            )
        rows = _check_rows(rows, h.shape[1])
        return h[:, rows], c[:, rows]
