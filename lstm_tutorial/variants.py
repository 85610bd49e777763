"""The LSTM cell taken apart: one configurable layer, and the other recurrent layers to compare.

:class:`VariantLSTM` is a stack of LSTM layers, like ``torch.nn.LSTM``, whose cell can be
changed by switches (Greff et al. 2017 call the resulting cells the LSTM's *variants*):

========================  ====================================================================
switch                    the cell computes
========================  ====================================================================
``forget_gate=False``     c_t = c_{t-1} + i_t * g_t: the cell of 1997, no forget weights
``peepholes=True``        the gates also see the cell: i_t, f_t read c_{t-1}, o_t reads c_t,
                          through diagonal weights ``weight_ci``, ``weight_cf``, ``weight_co``
``coupled=True``          f_t = 1 - i_t (CIFG): no forget weights
``output_gate=False``     h_t = act(c_t): o_t = 1, no output weights
``input_activation=False``  g_t = its pre-activation (identity instead of tanh)
``output_activation=False`` h_t = o_t * c_t (identity instead of tanh)
``forget_bias=b``         initialise the forget gate's bias b_f to b (``None``: torch's init)
``input_bias=b``          initialise the input gate's bias b_i to b (``None``: torch's init)
========================  ====================================================================

With every switch off it computes exactly what ``torch.nn.LSTM`` computes, with the same
parameter names (``weight_ih_l0``, ...), shapes, initialisation and call signature, so a
state dict moves between the two. The gate blocks of the stacked weights are the gates the
cell has, in torch's order i, f, g, o (``VariantLSTM.gates``); without a forget gate
``weight_ih_l0`` has 3H rows instead of 4H.

Two extras serve the chapters: ``forward(..., return_gates=True)`` also returns the gate
values at every step, and ``cell_hook`` lets a caller overwrite the cell state while the
layer runs (an intervention). :func:`make_recurrent` builds any of the layers compared in
the book by name, and :class:`SequenceModel` puts a linear read-out on top.

Checks: every public function and class checks its arguments with :mod:`lstm_tutorial.checks`
before any work: :class:`VariantLSTM` with the same private helpers as
:class:`lstm_tutorial.torch_lstm.LSTM` (sizes, flags, ``dropout``, ``device``, ``dtype``, and
in ``forward`` the input's and the state's type, dtype, device and shape), then its switches;
``make_recurrent`` and ``matching_hidden_size`` their kind, sizes and switches;
``SequenceModel`` its layer and, in ``forward``, its input (token ids in range);
``clamp_cells`` its units, values and start (against the cell's size and batch when the hook
runs, the first moment they are known); ``label_correlation`` its tensors. The teaching
method :meth:`VariantLSTM.cell_step` is not checked: ``forward`` checks before calling it.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from lstm_tutorial import checks, torch_lstm
from lstm_tutorial.torch_lstm import (
    _check_layer_index,
    _check_module_args,
    _check_stack_args,
)

State = tuple[Tensor, Tensor]  # (h, c)
#: ``cell_hook(t, c_t) -> c_t``: called with each step's new cell state, (B, H).
CellHook = Callable[[int, Tensor], Tensor]

#: The recorded quantities of ``forward(..., return_gates=True)``.
TRACED = ("i", "f", "g", "o", "c", "h")


class VariantLSTM(nn.Module):
    """A stack of LSTM layers with a configurable cell; see the module docstring.

    Arguments as ``torch.nn.LSTM`` (``input_size`` D, ``hidden_size`` H, ``num_layers`` L,
    ``bias``, ``batch_first``, ``dropout``, ``bidirectional``, ``device``, ``dtype``), then the
    switches, keyword-only. Parameters for layer k and direction suffix s ("" or
    "_reverse"): ``weight_ih_l{k}{s}`` (G*H, D_k), ``weight_hh_l{k}{s}`` (G*H, H),
    ``bias_ih_l{k}{s}`` and ``bias_hh_l{k}{s}`` (G*H,), with G = len(self.gates); with
    peepholes also ``weight_ci_l{k}{s}``, ``weight_cf_l{k}{s}`` (if the cell has its own
    forget gate) and ``weight_co_l{k}{s}`` (if it has an output gate), each (H,).
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
        *,
        forget_gate: bool = True,
        peepholes: bool = False,
        coupled: bool = False,
        output_gate: bool = True,
        input_activation: bool = True,
        output_activation: bool = True,
        forget_bias: float | None = None,
        input_bias: float | None = None,
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
        self.num_layers, self.batch_first, self.dropout, self.bidirectional = (
            stack
        )
        self.forget_gate = checks.boolean("forget_gate", forget_gate)
        self.peepholes = checks.boolean("peepholes", peepholes)
        self.coupled = checks.boolean("coupled", coupled)
        self.output_gate = checks.boolean("output_gate", output_gate)
        self.input_activation = checks.boolean(
            "input_activation", input_activation
        )
        self.output_activation = checks.boolean(
            "output_activation", output_activation
        )
        if coupled and not forget_gate:
            raise ValueError(
                "coupled=True sets f = 1 - i, which needs a forget gate: use forget_gate=True "
                "with coupled=True, or forget_gate=False alone (f = 1)"
            )
        for name, value in (
            ("forget_bias", forget_bias),
            ("input_bias", input_bias),
        ):
            checks.optional(checks.number, name, value)
            if value is not None and not bias:
                raise ValueError(f"{name}={value!r} needs bias=True")
        if forget_bias is not None and (coupled or not forget_gate):
            raise ValueError(
                "forget_bias needs a forget gate with its own weights: this cell has "
                + (
                    "f = 1 - i (coupled=True)"
                    if coupled
                    else "none (forget_gate=False)"
                )
            )
        self.forget_bias = None if forget_bias is None else float(forget_bias)
        self.input_bias = None if input_bias is None else float(input_bias)
        self.num_directions = 2 if bidirectional else 1
        self.proj_size = 0  # for code that reads torch.nn.LSTM's attributes

        #: The gates with their own weights, in the order of the weight blocks.
        self.gates: tuple[str, ...] = tuple(
            gate
            for gate in "ifgo"
            if not (gate == "f" and (coupled or not forget_gate))
            and not (gate == "o" and not output_gate)
        )
        #: Peephole weights this cell has: "ci", "cf", "co".
        self.peephole_names: tuple[str, ...] = (
            tuple("c" + gate for gate in self.gates if gate != "g")
            if peepholes
            else ()
        )
        G, H = len(self.gates), self.hidden_size
        for k in range(self.num_layers):
            D_k = self.input_size if k == 0 else self.num_directions * H
            for suffix in ("", "_reverse")[: self.num_directions]:
                name = f"l{k}{suffix}"
                self.register_parameter(
                    f"weight_ih_{name}",
                    nn.Parameter(torch.empty(G * H, D_k, **factory)),
                )
                self.register_parameter(
                    f"weight_hh_{name}",
                    nn.Parameter(torch.empty(G * H, H, **factory)),
                )
                if bias:
                    for which in ("ih", "hh"):
                        self.register_parameter(
                            f"bias_{which}_{name}",
                            nn.Parameter(torch.empty(G * H, **factory)),
                        )
                for peephole in self.peephole_names:
                    self.register_parameter(
                        f"weight_{peephole}_{name}",
                        nn.Parameter(torch.empty(H, **factory)),
                    )
        self.reset_parameters()

    # ----------------------------------------------------------------------- parameters

    def reset_parameters(self) -> None:
        """Every parameter uniform on [-1/sqrt(H), 1/sqrt(H)] in registration order, as in
        torch; then ``forget_bias`` / ``input_bias``, if given, set the gate's bias (in
        ``bias_ih``; the gate's block of ``bias_hh`` becomes 0)."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for parameter in self.parameters():
            nn.init.uniform_(parameter, -bound, bound)
        if self.forget_bias is not None:
            set_gate_bias(self, "f", self.forget_bias)
        if self.input_bias is not None:
            set_gate_bias(self, "i", self.input_bias)

    def layer_parameters(
        self, k: int, direction: int = 0
    ) -> dict[str, Tensor | None]:
        """The parameters of layer k, direction 0 (forwards) or 1 (backwards), by short name:
        ``weight_ih``, ``weight_hh``, ``bias_ih``, ``bias_hh`` (None without bias) and
        ``weight_ci``, ``weight_cf``, ``weight_co`` (None where the cell has none)."""
        _check_layer_index(self, k, direction)
        name = f"l{k}" + ("_reverse" if direction else "")
        short = (
            "weight_ih",
            "weight_hh",
            "bias_ih",
            "bias_hh",
            "weight_ci",
            "weight_cf",
        )
        return {
            s: getattr(self, f"{s}_{name}", None) for s in (*short, "weight_co")
        }

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
        defaults = {
            "forget_gate": True,
            "peepholes": False,
            "coupled": False,
            "output_gate": True,
            "input_activation": True,
            "output_activation": True,
            "forget_bias": None,
            "input_bias": None,
        }
        for name, default in defaults.items():
            if getattr(self, name) != default:
                text += f", {name}={getattr(self, name)}"
        return text

    # -------------------------------------------------------------------------- forward

    def cell_step(
        self, z: Tensor, c: Tensor, p: dict[str, Tensor | None]
    ) -> tuple[Tensor, Tensor, dict[str, Tensor]]:
        """One step of the configured cell from its pre-activations.

        z: (B, G*H), W x_t + U h_{t-1} + b for the gates in ``self.gates``;
        c: c_{t-1}, (B, H); p: ``layer_parameters`` (for the peepholes).
        Returns ``h_t, c_t`` and the gate values ``{"i", "f", "g", "o"}``, each
        (B, H); a gate the cell lacks is reported as its constant value (f = 1
        without a forget gate, o = 1 without an output gate), and CIFG's f as
        1 - i.
        """
        blocks = dict(
            zip(self.gates, z.chunk(len(self.gates), dim=-1), strict=True)
        )
        z_i = (
            blocks["i"]
            if p["weight_ci"] is None
            else blocks["i"] + p["weight_ci"] * c
        )
        i = torch.sigmoid(z_i)  # input gate
        if self.coupled:
            f = 1.0 - i  # CIFG: forget what is written
        elif self.forget_gate:
            z_f = (
                blocks["f"]
                if p["weight_cf"] is None
                else blocks["f"] + p["weight_cf"] * c
            )
            f = torch.sigmoid(z_f)  # forget gate
        else:
            f = None  # the 1997 cell: c is a running sum
        g = torch.tanh(blocks["g"]) if self.input_activation else blocks["g"]
        c = c + i * g if f is None else f * c + i * g  # new cell state
        shown = torch.tanh(c) if self.output_activation else c
        if self.output_gate:
            z_o = (
                blocks["o"]
                if p["weight_co"] is None
                else blocks["o"] + p["weight_co"] * c
            )
            o = torch.sigmoid(z_o)  # output gate
            h = o * shown
        else:
            o, h = None, shown
        gates = {
            "i": i,
            "f": torch.ones_like(c) if f is None else f,
            "g": g,
            "o": torch.ones_like(c) if o is None else o,
        }
        return h, c, gates

    def _layer(
        self,
        x: Tensor,
        h: Tensor,
        c: Tensor,
        p: dict[str, Tensor | None],
        reverse: bool,
        record: dict[str, list[Tensor]] | None,
        cell_hook: CellHook | None,
    ) -> tuple[Tensor, State]:
        """One layer and direction over x (T, B, D_k) -> output (T, B, H), (h_n, c_n)."""
        T = x.shape[0]
        z_x = (
            x @ p["weight_ih"].T
        )  # (T, B, G*H): the input part, all steps at once
        if p["bias_ih"] is not None:
            z_x = z_x + p["bias_ih"] + p["bias_hh"]
        weight_hh_T = p["weight_hh"].T  # (H, G*H)
        outputs: list[Tensor] = [x.new_empty(0)] * T
        steps = range(T - 1, -1, -1) if reverse else range(T)
        for t in steps:
            z = torch.addmm(z_x[t], h, weight_hh_T)  # (B, G*H)
            h, c, gates = self.cell_step(z, c, p)
            if cell_hook is not None:
                c = _check_hooked(cell_hook(t, c), c)
                shown = torch.tanh(c) if self.output_activation else c
                h = gates["o"] * shown
            outputs[t] = h
            if record is not None:
                for name, value in (*gates.items(), ("c", c), ("h", h)):
                    record[name].append(value)
        if record is not None and reverse:
            for values in record.values():
                values.reverse()  # back in input order
        return torch.stack(outputs), (h, c)

    def forward(
        self,
        input: Tensor,
        hx: State | None = None,
        *,
        return_gates: bool = False,
        cell_hook: CellHook | None = None,
    ) -> Any:
        """Run the stack over a sequence, as ``torch.nn.LSTM.forward``.

        input: (T, B, D), or (B, T, D) if ``batch_first``, or unbatched (T, D).
        hx: ``(h0, c0)``, each (L * dirs, B, H), or (L * dirs, H) unbatched; zeros if None.
        Returns ``output, (h_n, c_n)``: output (T, B, dirs * H) (batch first or unbatched
        like the input), h_n and c_n shaped like h0.

        ``return_gates=True`` adds a third value: a dict with keys ``"i", "f", "g", "o", "c",
        "h"``, each (L * dirs, T, B, H) (or (L * dirs, B, T, H) if ``batch_first``, or
        (L * dirs, T, H) unbatched), the values of every layer and direction at every step.
        ``cell_hook(t, c_t) -> c_t``, if given, is applied to each new cell state (B, H), in
        every layer and direction, before h_t is computed from it (t counts input steps).
        """
        checks.boolean("return_gates", return_gates)
        checks.optional(checks.function, "cell_hook", cell_hook)
        x, (h0, c0), unbatched = self._check_input(input, hx)  # x: (T, B, D)
        record = {name: [] for name in TRACED} if return_gates else None
        traces: dict[str, list[Tensor]] = {name: [] for name in TRACED}
        h_n, c_n = [], []
        for k in range(self.num_layers):
            outputs = []
            for d in range(self.num_directions):
                j = k * self.num_directions + d
                if record is not None:
                    record = {name: [] for name in TRACED}
                p = self.layer_parameters(k, d)
                out, (h, c) = self._layer(
                    x, h0[j], c0[j], p, d == 1, record, cell_hook
                )
                outputs.append(out)
                h_n.append(h)
                c_n.append(c)
                if record is not None:
                    for name in TRACED:
                        traces[name].append(
                            torch.stack(record[name])
                        )  # (T, B, H)
            x = torch.cat(outputs, dim=-1)  # (T, B, dirs * H)
            if self.training and self.dropout > 0 and k < self.num_layers - 1:
                x = F.dropout(x, self.dropout)
        output = x
        h_n, c_n = torch.stack(h_n), torch.stack(c_n)  # (L * dirs, B, H)
        gates = (
            {name: torch.stack(v) for name, v in traces.items()}
            if return_gates
            else {}
        )
        if unbatched:
            output, h_n, c_n = output[:, 0], h_n[:, 0], c_n[:, 0]
            gates = {
                name: v[:, :, 0] for name, v in gates.items()
            }  # (L * dirs, T, H)
        elif self.batch_first:
            output = output.transpose(0, 1)  # (B, T, dirs * H)
            gates = {name: v.transpose(1, 2) for name, v in gates.items()}
        if return_gates:
            return output, (h_n, c_n), gates
        return output, (h_n, c_n)

    # The same input and state checks as the from-scratch LSTM of Part III: one copy.
    _check_input = torch_lstm.LSTM._check_input


def _check_hooked(value: Any, c: Tensor) -> Tensor:
    """What a ``cell_hook`` returned: a tensor shaped like the cell state ``c``, same dtype
    and device (a hook that broadcasts or casts would change the model silently)."""
    checks.tensor("the value cell_hook returned", value, like=c, nonempty=False)
    if value.shape != c.shape:
        raise ValueError(
            f"cell_hook must return a tensor shaped like c_t {tuple(c.shape)}, "
            f"got {tuple(value.shape)}"
        )
    return value


# ------------------------------------------------------------------------------ helpers


def set_gate_bias(module: nn.Module, gate: str, value: float) -> None:
    """Set the bias of ``gate`` ("i", "f", "g" or "o") to ``value`` in every layer and
    direction of a ``torch.nn.LSTM`` or :class:`VariantLSTM`: the gate's block of
    ``bias_ih`` becomes ``value`` and its block of ``bias_hh`` 0, so that b = value."""
    checks.instance(
        "module",
        module,
        (nn.LSTM, VariantLSTM),
        "a torch.nn.LSTM or VariantLSTM",
    )
    checks.choice("gate", gate, tuple("ifgo"))
    value = checks.number("value", value)
    checks.fits_dtype("value", value, next(module.parameters()).dtype)
    gates = module.gates if isinstance(module, VariantLSTM) else tuple("ifgo")
    if gate not in gates:
        raise ValueError(
            f"this cell has no weights for gate {gate!r}; its gates are {gates}"
        )
    if not module.bias:
        raise ValueError(
            "module has no biases (bias=False): there is no gate bias to set"
        )
    H, k = module.hidden_size, gates.index(gate)
    with torch.no_grad():
        for name, parameter in module.named_parameters():
            if name.startswith("bias_ih_"):
                parameter[k * H : (k + 1) * H] = value
            elif name.startswith("bias_hh_"):
                parameter[k * H : (k + 1) * H] = 0.0


#: The cells of the ablation chapter: name -> switches of :class:`VariantLSTM`.
#: "standard" is torch's cell with its forget bias initialised to 1; CIFG, whose forget gate
#: is 1 - i, gets the input bias -1, so that its forget gate starts where the standard's does.
VARIANTS: dict[str, dict[str, Any]] = {
    "standard": {"forget_bias": 1.0},
    "no forget gate": {"forget_gate": False},
    "peepholes": {"peepholes": True, "forget_bias": 1.0},
    "CIFG": {
        "coupled": True,
        "input_bias": -1.0,
    },  # f = 1 - i starts at sigmoid(1)
    "no output gate": {"output_gate": False, "forget_bias": 1.0},
    "no input act.": {"input_activation": False, "forget_bias": 1.0},
    "no output act.": {"output_activation": False, "forget_bias": 1.0},
    "forget bias 0": {"forget_bias": 0.0},
}

#: Layers :func:`make_recurrent` builds by name.
KINDS = ("lstm", "variant", "gru", "rnn")
#: The keyword arguments of :class:`VariantLSTM` that ``make_recurrent("variant", ...)``
#: passes on: the switches, and ``bias``, ``dropout``, ``device``, ``dtype``.
_VARIANT_OPTIONS = (
    "forget_gate", "peepholes", "coupled", "output_gate", "input_activation",
    "output_activation", "forget_bias", "input_bias", "bias", "dropout", "device", "dtype",
)  # fmt: skip


def make_recurrent(
    kind: str,
    input_size: int,
    hidden_size: int,
    *,
    num_layers: int = 1,
    bidirectional: bool = False,
    batch_first: bool = True,
    **switches: Any,
) -> nn.Module:
    """Build a recurrent layer by name; every one is called as ``output, state = layer(x)``.

    - ``"lstm"``: ``torch.nn.LSTM`` (fast, fused); ``forget_bias`` / ``input_bias`` may be
      given to initialise those gate biases, no other switch;
    - ``"variant"``: :class:`VariantLSTM` with the given switches;
    - ``"gru"``: ``torch.nn.GRU``; ``update_bias`` may set the update gate's bias b_z;
    - ``"rnn"``: ``torch.nn.RNN`` with tanh (the vanilla RNN); ``orthogonal=True`` starts its
      recurrent weights as a random orthogonal matrix.

    ``num_layers`` > 1 stacks layers, ``bidirectional=True`` adds a backwards direction.
    """
    checks.choice("kind", kind, KINDS)
    shape = {
        "num_layers": checks.positive_int("num_layers", num_layers),
        "bidirectional": checks.boolean("bidirectional", bidirectional),
        "batch_first": checks.boolean("batch_first", batch_first),
    }
    input_size = checks.positive_int("input_size", input_size)
    hidden_size = checks.positive_int("hidden_size", hidden_size)
    if kind == "variant":
        checks.no_unknown_keys("switches", switches, _VARIANT_OPTIONS)
        return VariantLSTM(input_size, hidden_size, **shape, **switches)
    allowed = _START_SWITCHES[kind]
    unknown = set(switches) - set(allowed)
    if unknown:
        raise ValueError(
            f"{kind!r} takes no switches {sorted(unknown)} (only {list(allowed)}); use "
            "kind='variant' for the configurable LSTM"
        )
    for key, value in switches.items():
        if key == "orthogonal":
            checks.boolean(key, value)
        else:
            checks.optional(checks.number, key, value)
    if kind == "lstm":
        layer = nn.LSTM(input_size, hidden_size, **shape)
        for gate, key in (("f", "forget_bias"), ("i", "input_bias")):
            if switches.get(key) is not None:
                set_gate_bias(layer, gate, float(switches[key]))
        return layer
    if kind == "gru":
        layer = nn.GRU(input_size, hidden_size, **shape)
        if switches.get("update_bias") is not None:
            _set_update_bias(layer, float(switches["update_bias"]))
        return layer
    layer = nn.RNN(input_size, hidden_size, nonlinearity="tanh", **shape)
    if switches.get("orthogonal"):
        with torch.no_grad():
            for name, parameter in layer.named_parameters():
                if name.startswith("weight_hh_"):
                    nn.init.orthogonal_(parameter)
    return layer


#: The start switches of torch's fused layers in :func:`make_recurrent`.
_START_SWITCHES = {
    "lstm": ("forget_bias", "input_bias"),
    "gru": ("update_bias",),
    "rnn": ("orthogonal",),
}


def _set_update_bias(layer: nn.GRU, value: float) -> None:
    """b_z = value in every layer and direction of an ``nn.GRU`` (gate order r, z, n): its
    block of ``bias_ih`` becomes ``value``, its block of ``bias_hh`` 0. With b_z > 0 a fresh
    GRU keeps most of h_{t-1} (h_t = (1 - z_t) * n_t + z_t * h_{t-1})."""
    checks.fits_dtype("update_bias", value, layer.bias_ih_l0.dtype)
    H = layer.hidden_size
    with torch.no_grad():
        for name, parameter in layer.named_parameters():
            if name.startswith("bias_ih_"):
                parameter[H : 2 * H] = value
            elif name.startswith("bias_hh_"):
                parameter[H : 2 * H] = 0.0


def count_parameters(module: nn.Module) -> int:
    """The number of trainable numbers in ``module``."""
    checks.instance("module", module, nn.Module, "a torch.nn.Module")
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


#: The largest hidden size :func:`matching_hidden_size` considers.
_LARGEST_HIDDEN_SIZE = 1024


def matching_hidden_size(
    kind: str, input_size: int, n_parameters: int, **switches: Any
) -> int:
    """The hidden size H that gives a one-layer ``kind`` layer (see :func:`make_recurrent`)
    the number of parameters closest to ``n_parameters``: how to compare cells of equal
    size. H is at most 1024; a larger ``n_parameters`` than that layer has is refused."""
    n_parameters = checks.positive_int("n_parameters", n_parameters)
    with torch.device(
        "meta"
    ):  # checks kind, input_size and switches; no memory, no RNG
        largest = make_recurrent(
            kind, input_size, _LARGEST_HIDDEN_SIZE, **switches
        )
    if n_parameters > count_parameters(largest):
        raise ValueError(
            f"n_parameters must be at most {count_parameters(largest)}, the size of a {kind!r} "
            f"layer with hidden_size={_LARGEST_HIDDEN_SIZE}, got {n_parameters}"
        )
    best, best_gap = 1, math.inf
    for H in range(1, _LARGEST_HIDDEN_SIZE + 1):
        n = count_parameters(make_recurrent(kind, input_size, H, **switches))
        if abs(n - n_parameters) < best_gap:
            best, best_gap = H, abs(n - n_parameters)
        if n > n_parameters:
            break
    return best


def _check_recurrent(recurrent: Any) -> Any:
    """A batch-first recurrent layer with ``input_size``, ``hidden_size``, ``bidirectional``."""
    expected = "a recurrent layer (torch.nn.LSTM, GRU, RNN or VariantLSTM; see make_recurrent)"
    checks.instance("recurrent", recurrent, nn.Module, expected)
    if not all(
        hasattr(recurrent, a)
        for a in ("input_size", "hidden_size", "bidirectional")
    ):
        raise checks.ArgumentTypeError(
            f"recurrent must be {expected}, got {type(recurrent)}"
        )
    if getattr(recurrent, "batch_first", False) is not True:
        raise ValueError(
            "recurrent must be built with batch_first=True (make_recurrent does)"
        )
    return recurrent


class SequenceModel(nn.Module):
    """A recurrent layer with a linear read-out at every step.

    input: float (B, T, D), or int64 token ids (B, T) when ``vocab_size`` is given (each id
    becomes a one-hot vector of size ``vocab_size``, which must be the layer's input size).
    Returns float (B, T, output_size).
    """

    def __init__(
        self,
        recurrent: nn.Module,
        output_size: int,
        vocab_size: int | None = None,
    ):
        super().__init__()
        recurrent = _check_recurrent(recurrent)
        output_size = checks.positive_int("output_size", output_size)
        self.vocab_size = checks.optional(
            checks.positive_int, "vocab_size", vocab_size
        )
        if (
            self.vocab_size is not None
            and self.vocab_size != recurrent.input_size
        ):
            raise ValueError(
                f"vocab_size={self.vocab_size} must equal the recurrent layer's input_size="
                f"{recurrent.input_size}: each id becomes a one-hot vector of vocab_size"
            )
        self.recurrent = recurrent
        directions = 2 if recurrent.bidirectional else 1
        self.readout = nn.Linear(
            directions * recurrent.hidden_size, output_size
        )

    def forward(self, x: Tensor) -> Tensor:
        self._check_input(x)
        if self.vocab_size is not None:
            x = F.one_hot(x, self.vocab_size).to(
                self.readout.weight.dtype
            )  # (B, T, V)
        output, _ = self.recurrent(x)  # (B, T, dirs * H)
        return self.readout(output)  # (B, T, output_size)

    def _check_input(self, x: Any) -> None:
        """Token ids in range, on the model's device; or float (B, T, D) like the model."""
        like = self.readout.weight
        if self.vocab_size is not None:
            checks.id_tensor("x", x, self.vocab_size, ndim=2)
            if x.device != like.device:
                raise ValueError(
                    f"x is on device {x.device} but the model's parameters are on "
                    f"{like.device}; move one of them with .to(device)"
                )
            return
        checks.tensor("x", x, like=like, ndim=3)
        if x.shape[-1] != self.recurrent.input_size:
            raise ValueError(
                f"x must have shape (B, T, {self.recurrent.input_size}) (the layer's "
                f"input_size), got {tuple(x.shape)}"
            )


# ------------------------------------------------------------------- looking inside


def _check_plain_lstm(lstm: Any) -> None:
    checks.instance("lstm", lstm, nn.LSTM, "a torch.nn.LSTM")
    if lstm.proj_size != 0:
        raise ValueError(
            f"lstm must be a torch.nn.LSTM without projections, got {lstm!r}"
        )


def from_torch_lstm(lstm: nn.LSTM) -> VariantLSTM:
    """A :class:`VariantLSTM` with every switch off holding a copy of ``lstm``'s weights: the
    same function, but one that can report its gates and accept a ``cell_hook``."""
    _check_plain_lstm(lstm)
    first = next(lstm.parameters())
    variant = VariantLSTM(
        lstm.input_size,
        lstm.hidden_size,
        num_layers=lstm.num_layers,
        bias=lstm.bias,
        batch_first=lstm.batch_first,
        dropout=lstm.dropout,
        bidirectional=lstm.bidirectional,
        device=first.device,
        dtype=first.dtype,
    )
    variant.load_state_dict(lstm.state_dict())
    return variant.train(lstm.training)


def _check_clamp(
    units: Any, values: Any, start: Any
) -> tuple[list[int], Any, Any]:
    """The arguments of :func:`clamp_cells`, checked as far as they can be without the cell."""
    checks.sequence("units", units)
    units = [checks.count(f"units[{k}]", u) for k, u in enumerate(units)]
    if len(set(units)) != len(units):
        raise ValueError(f"units must name each cell unit once, got {units}")
    if isinstance(values, Tensor):
        checks.tensor("values", values, floating=True, ndim=(1, 2))
        checks.finite_tensor("values", values)
        if values.shape[-1] != len(units):
            raise ValueError(
                f"values must have one column per unit ({len(units)} units), "
                f"got shape {tuple(values.shape)}"
            )
    elif isinstance(values, numbers.Real) and not isinstance(values, bool):
        values = checks.number("values", values)
    else:
        raise checks.ArgumentTypeError(
            f"values must be a number or a float tensor (k,) or (B, k), "
            f"got {checks.describe(values)}"
        )
    if isinstance(start, Tensor):
        checks.tensor("start", start, dtype=torch.int64, ndim=1)
        if int(start.min()) < 0:
            raise ValueError(
                f"start must hold steps >= 0, got {int(start.min())}"
            )
    elif isinstance(start, numbers.Integral) and not isinstance(start, bool):
        start = checks.count("start", start)
    else:
        raise checks.ArgumentTypeError(
            f"start must be a step (an integer >= 0) or an int64 tensor (B,) of steps, "
            f"got {checks.describe(start)}"
        )
    return units, values, start


def _check_clamp_cell(
    units: list[int], values: Any, start: Any, c: Tensor
) -> None:
    """The arguments of :func:`clamp_cells` against the cell state c (B, H) it meets."""
    B, H = c.shape
    if max(units) >= H:
        raise ValueError(f"units {units} out of range for a cell of size {H}")
    for name, value, rows in (("values", values, 2), ("start", start, 1)):
        if (
            isinstance(value, Tensor)
            and value.dim() == rows
            and value.shape[0] != B
        ):
            raise ValueError(
                f"{name} has {value.shape[0]} rows but the batch has {B} sequences "
                f"(shape {tuple(value.shape)})"
            )


def clamp_cells(
    units: Sequence[int], values: Tensor | float, start: Tensor | int = 0
) -> CellHook:
    """A ``cell_hook`` that overwrites the cell units ``units`` from step ``start`` on.

    ``values``: a number, or a float tensor (k,) (one value per unit) or (B, k) (per sequence
    and unit), written in the cell's dtype; ``start``: a step, or an int64 tensor (B,) with
    one first step per sequence. Steps before ``start`` are left alone. Returns
    ``hook(t, c) -> c`` for ``VariantLSTM.forward(..., cell_hook=hook)``.
    """
    units, values, start = _check_clamp(units, values, start)

    def hook(t: int, c: Tensor) -> Tensor:
        _check_clamp_cell(units, values, start, c)
        rows = torch.as_tensor(start, device=c.device) <= t  # () or (B,)
        new = torch.as_tensor(values, dtype=c.dtype, device=c.device)
        new = new.expand(c.shape[0], len(units))  # (B, k)
        c = c.clone()
        c[:, units] = torch.where(rows.reshape(-1, 1), new, c[:, units])
        return c

    return hook


def label_correlation(states: Tensor, labels: Tensor) -> Tensor:
    """Pearson correlation of each unit with a label: states (N, H), labels (N,) (0/1 or
    real). Returns (H,); a unit that never changes gets 0."""
    checks.tensor("states", states, floating=True, ndim=2)
    checks.tensor("labels", labels, ndim=1, nonempty=False)
    if labels.shape != states.shape[:1]:
        raise ValueError(
            f"expected states (N, H) and labels (N,), got {tuple(states.shape)} and "
            f"{tuple(labels.shape)}"
        )
    if labels.is_complex() or labels.device != states.device:
        raise ValueError(
            f"labels must be real numbers on the device of states ({states.device}), "
            f"got {labels.dtype} on {labels.device}"
        )
    checks.finite_tensor("states", states)
    checks.finite_tensor("labels", labels.double())
    x = states.double() - states.double().mean(0)  # (N, H)
    y = labels.double() - labels.double().mean()  # (N,)
    denominator = x.norm(dim=0) * y.norm()
    return torch.where(
        denominator > 0, (x * y[:, None]).sum(0) / denominator, 0.0
    )
