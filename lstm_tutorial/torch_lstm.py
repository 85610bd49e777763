"""The LSTM of Part I again, written from scratch as PyTorch modules.

``LSTMCell`` and ``LSTM`` compute exactly what ``torch.nn.LSTMCell`` and ``torch.nn.LSTM``
compute, with the same constructor arguments, parameter names and shapes, initialisation,
call signature and return values, so that a state dict moves between them in both
directions. The difference is how: here the gate equations are written out with torch
tensors and a Python loop runs over the time steps, and autograd records every operation
for the backward pass, where ``torch.nn.LSTM`` calls one fused, compiled operator.

Read the module top to bottom:

1. ``lstm_cell_step``: one time step, the equations of Part I with torch tensors.
2. ``lstm_layer``: one layer over a whole sequence, forwards or backwards in time.
3. ``LSTMCell`` and ``LSTM``: the modules, with the checks that turn bad input into a
   clear error instead of a broadcast or a cryptic message from deep inside torch.
4. Two small tools of the chapters: ``autograd_graph`` counts what autograd recorded and
   ``median_seconds`` times functions against each other.

Conventions: T is the number of time steps, B the batch size, D the input size, H the
hidden size. All tensors of one call share the parameters' dtype and device; nothing is
cast or moved silently.

Checks: the constructors of ``LSTMCell`` and ``LSTM``, their ``forward`` and
``layer_parameters``, ``autograd_graph`` and ``median_seconds`` check every argument with
:mod:`lstm_tutorial.checks` before any work (sizes, flags, ``dropout``, ``device``, a torch
``dtype``; the input's and the state's type, dtype, device and shape, batch size included).
The private helpers that do it are shared with :class:`lstm_tutorial.variants.VariantLSTM`.
The teaching functions ``lstm_cell_step`` and ``lstm_layer`` are not checked: the modules
check once before calling them. The values inside tensors are not inspected (NaN
propagates, as in torch).
"""

from __future__ import annotations

import math
import statistics
import time
import warnings
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.utils.rnn import PackedSequence

from lstm_tutorial import checks

State = tuple[Tensor, Tensor]  # (h, c)
Output = tuple[Tensor, State]  # output, (h_n, c_n)

# ---------------------------------------------------------------------------------------------
# 1. One time step
# ---------------------------------------------------------------------------------------------


def lstm_cell_step(
    x: Tensor,
    h: Tensor,
    c: Tensor,
    weight_ih: Tensor,
    weight_hh: Tensor,
    bias_ih: Tensor | None = None,
    bias_hh: Tensor | None = None,
) -> State:
    """One step of the LSTM cell, with PyTorch's stacked weights.

    x: (B, D);  h, c: the previous states h_{t-1}, c_{t-1}, (B, H);
    weight_ih: (4H, D);  weight_hh: (4H, H);  bias_ih, bias_hh: (4H,)
    or None. Gate blocks in the order i, f, g, o.
    Returns the new states ``(h_t, c_t)``, each (B, H). Same dtype and
    device in and out; no checks (the modules check their input once,
    not at every step).
    """
    z = x @ weight_ih.T + h @ weight_hh.T  # (B, 4H): all gates at once
    if bias_ih is not None:
        z = z + bias_ih + bias_hh
    z_i, z_f, z_g, z_o = z.chunk(4, dim=-1)  # each (B, H)
    i = torch.sigmoid(z_i)  # input gate
    f = torch.sigmoid(z_f)  # forget gate
    g = torch.tanh(z_g)  # candidate values
    o = torch.sigmoid(z_o)  # output gate
    c = f * c + i * g  # new cell state
    h = o * torch.tanh(c)  # new hidden state
    return h, c


# ---------------------------------------------------------------------------------------------
# 2. One layer over a sequence
# ---------------------------------------------------------------------------------------------


def lstm_layer(
    x: Tensor,
    h0: Tensor,
    c0: Tensor,
    weight_ih: Tensor,
    weight_hh: Tensor,
    bias_ih: Tensor | None = None,
    bias_hh: Tensor | None = None,
    reverse: bool = False,
) -> tuple[Tensor, State]:
    """Run one layer over a sequence: ``lstm_cell_step`` at every step.

    x: (T, B, D), time-major;  h0, c0: (B, H);  weights as in
    ``lstm_cell_step``. ``reverse=True`` runs from the last step to the
    first: the backward direction of a bidirectional layer.
    Returns ``output, (h_n, c_n)``: output (T, B, H), where output[t] is
    the state at step t in either direction; h_n and c_n (B, H), the
    states after the last step processed (T - 1 forwards, 0 backwards).
    """
    if reverse:
        x = x.flip(0)  # the same loop, on the time-reversed sequence
    weights = (weight_ih, weight_hh, bias_ih, bias_hh)
    h, c = h0, c0
    outputs = []
    for x_t in x:  # x_t: (B, D)
        h, c = lstm_cell_step(x_t, h, c, *weights)
        outputs.append(h)
    output = torch.stack(outputs)  # (T, B, H)
    if reverse:
        output = output.flip(0)  # back in the order of the input
    return output, (h, c)


# ---------------------------------------------------------------------------------------------
# 3. The modules
# ---------------------------------------------------------------------------------------------


def _check_module_args(
    input_size: Any, hidden_size: Any, bias: Any, device: Any, dtype: Any
) -> tuple[int, int, bool, dict[str, Any]]:
    """The arguments of every LSTM module of the package (``LSTMCell``, ``LSTM``,
    ``VariantLSTM``), checked: input_size, hidden_size, bias and the factory keywords
    ``{"device": ..., "dtype": ...}`` for the parameters."""
    input_size = checks.positive_int("input_size", input_size)
    hidden_size = checks.positive_int("hidden_size", hidden_size)
    bias = checks.boolean("bias", bias)
    factory = {
        "device": checks.torch_device("device", device),
        "dtype": checks.torch_float_dtype("dtype", dtype),
    }
    return input_size, hidden_size, bias, factory


def _check_stack_args(
    num_layers: Any, batch_first: Any, dropout: Any, bidirectional: Any
) -> tuple[int, bool, float, bool]:
    """The arguments of a stack of layers (``LSTM``, ``VariantLSTM``), checked."""
    return (
        checks.positive_int("num_layers", num_layers),
        checks.boolean("batch_first", batch_first),
        checks.fraction("dropout", dropout),
        checks.boolean("bidirectional", bidirectional),
    )


def _check_layer_index(module: Any, k: Any, direction: Any) -> None:
    """``k`` a layer of ``module`` and ``direction`` one of its directions (0 or 1)."""
    checks.integer("k", k, minimum=0, maximum=module.num_layers - 1)
    checks.integer(
        "direction", direction, minimum=0, maximum=module.num_directions - 1
    )


def _check_tensor(value: Any, name: str, like: Tensor) -> Tensor:
    """A tensor of ``like``'s dtype on ``like``'s device (not empty): nothing is cast."""
    if isinstance(value, PackedSequence):
        raise checks.ArgumentTypeError(
            f"{name} is a PackedSequence, which this scratch module does not take: pass a "
            "padded tensor, or use torch.nn.LSTM for packed variable-length batches"
        )
    return checks.tensor(name, value, like=like)


def _check_input_tensor(
    input: Any,
    like: Tensor,
    input_size: int,
    ndims: tuple[int, int],
    shapes: str,
) -> Tensor:
    """The input of a module: a non-empty tensor like ``like`` with ``ndims`` dimensions
    (batched, unbatched; ``shapes`` says which in words) and ``input_size`` features."""
    x = _check_tensor(input, "input", like)
    if x.dim() not in ndims:
        raise ValueError(
            f"expected input of shape {shapes}, got {tuple(x.shape)}"
        )
    if x.shape[-1] != input_size:
        raise ValueError(
            f"expected input's last dimension to be input_size={input_size}, "
            f"got {x.shape[-1]} (input has shape {tuple(x.shape)})"
        )
    return x


def _check_state_pair(hx: Any) -> State:
    if (
        isinstance(hx, PackedSequence)
        or not isinstance(hx, tuple | list)
        or len(hx) != 2
    ):
        what = type(hx).__name__
        if isinstance(hx, tuple | list):
            what += f" of length {len(hx)}"
        raise checks.ArgumentTypeError(
            f"hx must be a pair (h0, c0) of tensors, or None; got a {what}"
        )
    return hx[0], hx[1]


def _check_states(
    hx: Any, shape: tuple[int, ...], layout: str, like: Tensor
) -> State:
    """Validate ``hx = (h0, c0)``: tensors of exactly ``shape``, dtype and device of ``like``."""
    h0, c0 = _check_state_pair(hx)
    for name, state in (("hx[0] (h0)", h0), ("hx[1] (c0)", c0)):
        _check_tensor(state, name, like)
        if tuple(state.shape) != shape:
            raise ValueError(
                f"expected {name} of shape {shape} {layout}, got {tuple(state.shape)}"
            )
    return h0, c0


class LSTMCell(nn.Module):
    """One LSTM cell as an ``nn.Module``, like ``torch.nn.LSTMCell``: one time step per call.

    Parameters: ``weight_ih`` (4H, D), ``weight_hh`` (4H, H) and, with ``bias=True``,
    ``bias_ih`` and ``bias_hh`` (4H,), gate blocks in the order i, f, g, o, initialised
    uniformly on [-1/sqrt(H), 1/sqrt(H)] like torch's (the same seed gives the same
    numbers as ``torch.nn.LSTMCell``). ``device`` and ``dtype`` as in torch.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        bias: bool = True,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        checked = _check_module_args(
            input_size, hidden_size, bias, device, dtype
        )
        self.input_size, self.hidden_size, self.bias, factory = checked
        D, H = self.input_size, self.hidden_size
        self.weight_ih = nn.Parameter(torch.empty(4 * H, D, **factory))
        self.weight_hh = nn.Parameter(torch.empty(4 * H, H, **factory))
        if bias:
            self.bias_ih = nn.Parameter(torch.empty(4 * H, **factory))
            self.bias_hh = nn.Parameter(torch.empty(4 * H, **factory))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Every weight and bias uniform on [-1/sqrt(H), 1/sqrt(H)], in torch's order."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for parameter in self.parameters():
            nn.init.uniform_(parameter, -bound, bound)

    def extra_repr(self) -> str:
        extra = "" if self.bias else ", bias=False"
        return f"{self.input_size}, {self.hidden_size}{extra}"

    def forward(self, input: Tensor, hx: State | None = None) -> State:
        """One step. input: (B, D) or unbatched (D,); hx: ``(h0, c0)``, each
        (B, H) or (H,), zeros if None. Returns ``(h_1, c_1)``, shaped like hx.
        """
        x, (h, c), unbatched = self._check_input(input, hx)
        weights = (self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh)
        h, c = lstm_cell_step(x, h, c, *weights)
        if unbatched:
            return h[0], c[0]  # (H,)
        return h, c  # (B, H)

    def _check_input(self, input: Any, hx: Any) -> tuple[Tensor, State, bool]:
        """Validate; return x as (B, D), (h0, c0) as (B, H) each, and whether unbatched."""
        shapes = "(B, D) or unbatched (D,)"
        x = _check_input_tensor(
            input, self.weight_ih, self.input_size, (2, 1), shapes
        )
        unbatched = x.dim() == 1
        if unbatched:
            x = x[None]  # (1, D)
        shape = (*input.shape[:-1], self.hidden_size)
        if hx is None:
            zeros = x.new_zeros(x.shape[0], self.hidden_size)
            return x, (zeros, zeros), unbatched
        layout = (
            "(hidden_size,) for unbatched input"
            if unbatched
            else "(batch, hidden_size)"
        )
        h0, c0 = _check_states(hx, shape, layout, self.weight_ih)
        if unbatched:
            h0, c0 = h0[None], c0[None]  # (1, H)
        return x, (h0, c0), unbatched


class LSTM(nn.Module):
    """A stack of LSTM layers as an ``nn.Module``, like ``torch.nn.LSTM``.

    Arguments as ``torch.nn.LSTM``: ``input_size`` D, ``hidden_size`` H, ``num_layers`` L,
    ``bias``, ``batch_first``, ``dropout`` (on the outputs of every layer but the last, in
    training mode only), ``bidirectional``; ``proj_size`` must be 0 (projections are not
    implemented); ``device`` and ``dtype`` as in torch.

    Parameters, for layer k and direction suffix s ("" forwards, "_reverse" backwards):
    ``weight_ih_l{k}{s}`` (4H, D) for k = 0 and (4H, num_directions * H) above,
    ``weight_hh_l{k}{s}`` (4H, H), and with ``bias=True`` ``bias_ih_l{k}{s}`` and
    ``bias_hh_l{k}{s}`` (4H,). Same names, shapes, order and initialisation as torch, so
    ``load_state_dict`` works in both directions and the same seed gives the same numbers.

    Call it as ``output, (h_n, c_n) = lstm(input, hx)``; see ``forward``.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bias: bool = True,
        batch_first: bool = False,
        dropout: float = 0.0,
        bidirectional: bool = False,
        proj_size: int = 0,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> None:
        super().__init__()
        checked = _check_module_args(
            input_size, hidden_size, bias, device, dtype
        )
        self.input_size, self.hidden_size, self.bias, factory = checked
        stack = _check_stack_args(
            num_layers, batch_first, dropout, bidirectional
        )
        self.num_layers, self.batch_first, dropout, self.bidirectional = stack
        if checks.integer("proj_size", proj_size) != 0:
            raise ValueError(
                f"proj_size={proj_size!r} is not supported: this scratch LSTM implements "
                "proj_size=0 only (num_layers, bias, batch_first, dropout and bidirectional "
                "are supported); use torch.nn.LSTM for projections"
            )
        if dropout > 0 and num_layers == 1:
            warnings.warn(
                "dropout acts between layers, so with num_layers=1 it does nothing "
                f"(dropout={dropout}, num_layers=1), as in torch.nn.LSTM",
                UserWarning,
                stacklevel=2,
            )
        self.dropout = dropout
        self.proj_size = 0
        self.num_directions = 2 if bidirectional else 1

        H = self.hidden_size
        for k in range(self.num_layers):
            D_k = self.input_size if k == 0 else self.num_directions * H
            for suffix in ("", "_reverse")[: self.num_directions]:
                name = f"l{k}{suffix}"
                w_ih = nn.Parameter(torch.empty(4 * H, D_k, **factory))
                w_hh = nn.Parameter(torch.empty(4 * H, H, **factory))
                self.register_parameter(f"weight_ih_{name}", w_ih)
                self.register_parameter(f"weight_hh_{name}", w_hh)
                if bias:
                    b_ih = nn.Parameter(torch.empty(4 * H, **factory))
                    b_hh = nn.Parameter(torch.empty(4 * H, **factory))
                    self.register_parameter(f"bias_ih_{name}", b_ih)
                    self.register_parameter(f"bias_hh_{name}", b_hh)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Every weight and bias uniform on [-1/sqrt(H), 1/sqrt(H)], in torch's order."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for parameter in self.parameters():
            nn.init.uniform_(parameter, -bound, bound)

    def extra_repr(self) -> str:
        text = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            text += f", num_layers={self.num_layers}"
        if not self.bias:
            text += ", bias=False"
        if self.batch_first:
            text += ", batch_first=True"
        if self.dropout:
            text += f", dropout={self.dropout}"
        if self.bidirectional:
            text += ", bidirectional=True"
        return text

    def layer_parameters(
        self, k: int, direction: int = 0
    ) -> tuple[Tensor, Tensor, Tensor | None, Tensor | None]:
        """``(weight_ih, weight_hh, bias_ih, bias_hh)`` of layer k, direction 0 (forwards) or
        1 (backwards); the biases are None without bias."""
        _check_layer_index(self, k, direction)
        name = f"l{k}" + ("_reverse" if direction else "")
        weights = (
            getattr(self, f"weight_ih_{name}"),
            getattr(self, f"weight_hh_{name}"),
        )
        if not self.bias:
            return (*weights, None, None)
        return (
            *weights,
            getattr(self, f"bias_ih_{name}"),
            getattr(self, f"bias_hh_{name}"),
        )

    def forward(self, input: Tensor, hx: State | None = None) -> Output:
        """Run the stack over a sequence, as ``torch.nn.LSTM.forward``.

        input: (T, B, D), or (B, T, D) if ``batch_first``, or unbatched
        (T, D). hx: ``(h0, c0)``, each (L * dirs, B, H), or (L * dirs, H)
        for unbatched input; zeros if None (dirs = num_directions).
        Returns ``output, (h_n, c_n)``: output (T, B, dirs * H), batch
        first or unbatched like the input: the last layer's h at every
        step, both directions side by side; h_n and c_n shaped like h0:
        row k * dirs + d is the final state of layer k, direction d.
        """
        x, (h0, c0), unbatched = self._check_input(input, hx)  # time-major
        directions = [False, True] if self.bidirectional else [False]
        h_n, c_n = [], []
        for k in range(self.num_layers):  # x: layer k's input, (T, B, D_k)
            outputs = []
            for d, reverse in enumerate(directions):  # d = 1: backwards
                j = k * self.num_directions + d  # row of h0, c0, h_n, c_n
                weights = self.layer_parameters(k, d)
                out, (h, c) = lstm_layer(x, h0[j], c0[j], *weights, reverse)
                outputs.append(out)  # (T, B, H)
                h_n.append(h)
                c_n.append(c)
            x = torch.cat(outputs, dim=-1)  # (T, B, dirs * H)
            if self.training and self.dropout > 0 and k < self.num_layers - 1:
                x = F.dropout(x, self.dropout)  # between layers only
        output = x  # (T, B, dirs * H), the last layer's output
        h_n, c_n = torch.stack(h_n), torch.stack(c_n)  # (L * dirs, B, H)
        if unbatched:
            return output[:, 0], (h_n[:, 0], c_n[:, 0])
        if self.batch_first:
            output = output.transpose(0, 1)  # (B, T, dirs * H)
        return output, (h_n, c_n)

    def _check_input(self, input: Any, hx: Any) -> tuple[Tensor, State, bool]:
        """Validate; return x as (T, B, D), (h0, c0) as (L * dirs, B, H), and unbatched."""
        like = self.weight_ih_l0
        shapes = (
            "(B, T, D)" if self.batch_first else "(T, B, D)"
        ) + " or unbatched (T, D)"
        x = _check_input_tensor(input, like, self.input_size, (3, 2), shapes)
        unbatched = x.dim() == 2
        if unbatched:
            x = x[:, None]  # (T, 1, D)
        elif self.batch_first:
            x = x.transpose(0, 1)  # (T, B, D)
        B = x.shape[1]
        L = self.num_layers * self.num_directions
        if hx is None:
            zeros = x.new_zeros(L, B, self.hidden_size)
            return x, (zeros, zeros), unbatched
        if unbatched:
            shape = (L, self.hidden_size)
            layout = (
                "(num_layers * num_directions, hidden_size) for unbatched input"
            )
        else:
            shape = (L, B, self.hidden_size)
            layout = "(num_layers * num_directions, batch, hidden_size)"
        h0, c0 = _check_states(hx, shape, layout, like)
        if unbatched:
            h0, c0 = h0[:, None], c0[:, None]  # (L * dirs, 1, H)
        return x, (h0, c0), unbatched


# ---------------------------------------------------------------------------------------------
# 4. Tools for the chapters
# ---------------------------------------------------------------------------------------------


def autograd_graph(tensor: Tensor) -> Counter[str]:
    """Count the nodes of the autograd graph that produced ``tensor``.

    Follows ``grad_fn.next_functions`` from ``tensor`` back to the
    leaves and counts every node once, by type (``MulBackward0``, ...).
    ``AccumulateGrad`` nodes are where the gradients of leaf tensors,
    such as parameters, are added up. A tensor that does not require
    grad gives an empty Counter.
    """
    checks.tensor("tensor", tensor, nonempty=False)
    counts: Counter[str] = Counter()
    seen = set()
    todo = [tensor.grad_fn] if tensor.grad_fn is not None else []
    while todo:
        node = todo.pop()
        if node in seen:
            continue
        seen.add(node)
        counts[type(node).__name__] += 1
        parents = (fn for fn, _ in node.next_functions if fn is not None)
        todo.extend(parents)
    return counts


def median_seconds(
    functions: Mapping[str, Callable[[], object]],
    repeats: int = 5,
    number: int = 1,
    threads: int | None = None,
) -> dict[str, float]:
    """Median wall-clock seconds per call of each function, timed in turns.

    Each of the ``repeats`` rounds calls every function once untimed (warm-up), then
    ``number`` times timed; the order of the functions rotates from round to round, so a
    busy moment of the machine does not hit one function only. ``threads``, if given, is
    the number of threads torch uses during the timing (restored afterwards); one thread
    gives steadier numbers on a machine shared with other programs.
    Returns name -> seconds.
    """
    checks.mapping("functions", functions)
    if not functions:
        raise ValueError(
            "functions must map at least one name to a function, got {}"
        )
    for name, function in functions.items():
        checks.function(f"functions[{name!r}]", function)
    checks.positive_int("repeats", repeats)
    checks.positive_int("number", number)
    checks.optional(checks.positive_int, "threads", threads)
    names = list(functions)
    times: dict[str, list[float]] = {name: [] for name in names}
    before = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        for r in range(repeats):
            for name in names[r % len(names) :] + names[: r % len(names)]:
                functions[name]()  # warm-up
                start = time.perf_counter()
                for _ in range(number):
                    functions[name]()
                times[name].append((time.perf_counter() - start) / number)
    finally:
        torch.set_num_threads(before)
    return {name: statistics.median(values) for name, values in times.items()}
