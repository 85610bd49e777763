"""What the cells of a character-level LSTM learn: the chapter "What the cells learn on real
text" (Part V), after Karpathy, Johnson and Fei-Fei (2015).

- **Gates recomputed.** ``torch.nn.LSTM`` returns h, but neither its cell states (except the
  last) nor its gates. :func:`lstm_step` is one step computed from the layer's own weights
  (torch stacks the gates in the order i, f, g, o); :func:`trace_cells` runs a trained
  :class:`~lstm_tutorial.textlm.TextLM` over a text with it and returns, per character, the
  cell state c, the hidden state h and the gates of one layer (:class:`CellTrace`), and the
  model's logits for the next character. With ``clamp`` it holds chosen cells at fixed
  values while it reads, and the logits show what that changes.
- **Text features**, one number per character, the state *after* reading it:
  :func:`in_quotes`, :func:`bracket_depth`, :func:`column`, :func:`indentation`
  (:data:`FEATURES`, :func:`text_features`).
- **The search.** :func:`correlations` is the Pearson correlation of every cell with a
  feature; :func:`search_cells` picks each feature's cell on one text (largest absolute
  correlation) and reports its correlation on another, so that picking the best of many
  cells does not flatter it (:class:`Found`).
- **Saturation** (:func:`saturation`): the share of steps each gate spends below 0.1
  (left-saturated) or above 0.9 (right-saturated), as in Karpathy et al.'s figure
  (:func:`saturation_figure`).
- **Clamping, measured** (:func:`quote_predictions`): bits per character, and the
  probability the model gives the closing quotes and stray ones, from a trace's logits.
- **The page.** :func:`activation_html` renders a text with each character's background
  coloured by one cell: static HTML with inline styles, no script, nothing from the network.
- **Exercise checks.** :func:`check_bracket_depth` and :func:`check_lstm_step` compare a
  student's function with the package's on fixed inputs and print what differs.

Checks: every public function checks its arguments with :mod:`lstm_tutorial.checks` before
any work, except :func:`lstm_step` and :func:`layer_trace`, the teaching code that the
chapter shows line by line: they are reached through :func:`trace_cells`, which checks.
What a student's function returns is judged by the check functions, never raised.
"""

from __future__ import annotations

import html as html_escape
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

import numpy as np
import torch
from torch import nn

from lstm_tutorial import checks
from lstm_tutorial.grading import (
    as_array,
    compare,
    is_tuple,
    note_stand_in,
    verdict,
)
from lstm_tutorial.variants import label_correlation

#: The gates of an LSTM layer in the order torch stacks them in its weights.
GATES = ("i", "f", "g", "o")


# ------------------------------------------------------------ the gates, recomputed


def lstm_step(x, h, c, w_ih, w_hh, b):
    """One step of an nn.LSTM layer, computed from its weights.

    x: (B, D), h and c: (B, H), the state before the step; w_ih (4H, D),
    w_hh (4H, H) and b (4H,) are weight_ih_l0, weight_hh_l0 and
    bias_ih_l0 + bias_hh_l0. torch stacks the gates in the order
    i, f, g, o. Returns the new h and c, and the gates (i, f, g, o).
    """
    z = x @ w_ih.T + h @ w_hh.T + b  # (B, 4H)
    z_i, z_f, z_g, z_o = z.chunk(4, dim=-1)
    i, f, o = torch.sigmoid(z_i), torch.sigmoid(z_f), torch.sigmoid(z_o)
    g = torch.tanh(z_g)
    c = f * c + i * g
    h = o * torch.tanh(c)
    return h, c, (i, f, g, o)


class CellTrace(NamedTuple):
    """What :func:`trace_cells` returns: row t is the step that read character t."""

    c: torch.Tensor  # (N, H) cell state
    h: torch.Tensor  # (N, H) hidden state
    i: torch.Tensor  # (N, H) input gate
    f: torch.Tensor  # (N, H) forget gate
    g: torch.Tensor  # (N, H) candidate values
    o: torch.Tensor  # (N, H) output gate
    logits: torch.Tensor  # (N, V): the scores for the character after t


def layer_trace(lstm, x, clamp):
    """Run one nn.LSTM layer over x (N, D) from a zero state, one step at a
    time, holding the cells of clamp ({cell: value}) at their values.
    Returns c, h, i, f, g, o, each (N, H): row t is the step that read x[t].
    """
    w_ih, w_hh = lstm.weight_ih_l0, lstm.weight_hh_l0
    b = lstm.bias_ih_l0 + lstm.bias_hh_l0
    h = c = x.new_zeros(1, lstm.hidden_size)
    cells = list(clamp)
    held = x.new_tensor([clamp[k] for k in cells])
    steps = []
    for x_t in x:  # (D,)
        h, c, (i, f, g, o) = lstm_step(x_t[None], h, c, w_ih, w_hh, b)
        if cells:
            c[:, cells] = held  # the clamped cells keep their values
            h = o * torch.tanh(c)
        steps.append((c, h, i, f, g, o))
    return [torch.cat(s) for s in zip(*steps, strict=True)]


def _check_model(model: Any) -> nn.Module:
    from lstm_tutorial.textlm import TextLM

    checks.instance("model", model, TextLM, "a TextLM")
    if model.cell != "lstm":
        raise ValueError(
            f"model must be a TextLM of nn.LSTM layers (cell='lstm'), got "
            f"cell={model.cell!r}: only those have the gates this traces"
        )
    return model


def _check_clamp(clamp: Any, hidden_size: int) -> dict[int, float]:
    if clamp is None:
        return {}
    checks.instance("clamp", clamp, Mapping, "a dict {cell: value} or None")
    out = {}
    for cell, value in clamp.items():
        cell = checks.integer(
            "clamp's cell", cell, minimum=0, maximum=hidden_size - 1
        )
        out[cell] = checks.number(f"clamp[{cell}]", value)
    return out


@torch.no_grad()
def trace_cells(
    model: nn.Module,
    ids: torch.Tensor,
    *,
    layer: int = 0,
    clamp: Mapping[int, float] | None = None,
) -> CellTrace:
    """Run ``model`` (a :class:`~lstm_tutorial.textlm.TextLM` of ``"lstm"`` layers) over
    the token ids ``ids`` (N,) from a zero state, and return every step's c, h and gates
    of layer ``layer`` (0 is the first) and the logits (:class:`CellTrace`).

    The layer is recomputed step by step from its weights (:func:`layer_trace`); the
    layers below and above run as the model's own nn.LSTM modules. No dropout acts,
    whatever the model's mode (which is left as it was). ``clamp``: {cell: value}, cells
    of that layer whose c is held at the value after every step (h is then computed from
    the held c), so the logits show how the model's predictions change.
    """
    _check_model(model)
    checks.id_tensor("ids", ids, model.embedding.num_embeddings, ndim=1)
    weight = model.embedding.weight
    if ids.device != weight.device:
        raise ValueError(
            f"ids are on {ids.device} but the model is on {weight.device}: "
            "move one of them with .to(device)"
        )
    layer = checks.integer(
        "layer", layer, minimum=0, maximum=model.num_layers - 1
    )
    lstms = [wrapped.layer for wrapped in model.layers]
    clamp = _check_clamp(clamp, lstms[layer].hidden_size)
    x = model.embedding(ids)[None]  # (1, N, E)
    for below in lstms[:layer]:
        x, _ = below(x)
    c, h, i, f, g, o = layer_trace(lstms[layer], x[0], clamp)
    y = h[None]
    for above in lstms[layer + 1 :]:
        y, _ = above(y)
    return CellTrace(c, h, i, f, g, o, model.decoder(y)[0])


# ------------------------------------------------------------------ text features


def in_quotes(text: str) -> np.ndarray:
    """1.0 where the text is inside a "..." or '...' string after this
    character, else 0.0: an opening quote is inside, a closing one outside.

    Inside one kind of quote the other kind is plain text ("it's"). Every
    ' counts as a quote: this text writes the apostrophes of its prose as
    the other character, \u2019. A quote left open ends with its line.
    """
    checks.string("text", text, empty=True)
    inside, out = None, []
    for ch in text:
        if ch == "\n" or ch == inside:
            inside = None
        elif inside is None and ch in "\"'":
            inside = ch
        out.append(0.0 if inside is None else 1.0)
    return np.array(out, dtype=np.float64)


def bracket_depth(text: str) -> np.ndarray:
    """How many (, [ and { are open after each character.

    An opening bracket adds one and a closing one takes one away, of any
    kind; a closing bracket with none open (as in "1)") is ignored. A
    blank line (empty or only spaces) sets the depth back to 0, so that
    one bracket left open does not count for the rest of the text.
    """
    checks.string("text", text, empty=True)
    depth, blank, out = 0, True, []
    for ch in text:
        if ch in "([{":
            depth += 1
        elif ch in ")]}" and depth > 0:
            depth -= 1
        elif ch == "\n" and blank:
            depth = 0
        if ch == "\n":
            blank = True
        elif ch != " ":
            blank = False
        out.append(float(depth))
    return np.array(out, dtype=np.float64)


def column(text: str) -> np.ndarray:
    """How many characters of its line have been read after each character:
    0 after a newline, 1 after the first character of a line, ..."""
    checks.string("text", text, empty=True)
    k, out = 0, []
    for ch in text:
        k = 0 if ch == "\n" else k + 1
        out.append(float(k))
    return np.array(out, dtype=np.float64)


def indentation(text: str) -> np.ndarray:
    """The number of spaces that begin the current line, as far as read:
    it grows over the leading spaces and then stays until the newline."""
    checks.string("text", text, empty=True)
    depth, leading, out = 0, True, []
    for ch in text:
        if ch == "\n":
            depth, leading = 0, True
        elif ch == " " and leading:
            depth += 1
        else:
            leading = False
        out.append(float(depth))
    return np.array(out, dtype=np.float64)


#: The features of :func:`text_features`, by name.
FEATURES: dict[str, Callable[[str], np.ndarray]] = {
    "in quotes": in_quotes,
    "bracket depth": bracket_depth,
    "column": column,
    "indentation": indentation,
}


def text_features(text: str) -> dict[str, np.ndarray]:
    """Every feature of :data:`FEATURES` for ``text``: name -> float64 array (N,)."""
    checks.string("text", text, empty=True)
    return {name: fn(text) for name, fn in FEATURES.items()}


# ------------------------------------------------------------------------ the search


def _check_acts(name: str, acts: Any) -> torch.Tensor:
    checks.tensor(name, acts, floating=True, ndim=2)
    checks.finite_tensor(name, acts)
    return acts


def _check_feature(name: str, feature: Any, n: int) -> np.ndarray:
    checks.array(name, feature, kind="float", ndim=1, finite=True)
    if len(feature) != n:
        raise ValueError(
            f"{name} must have one value per row of the activations ({n}), "
            f"got {len(feature)}"
        )
    return feature


def correlations(acts: torch.Tensor, feature: np.ndarray) -> np.ndarray:
    """The Pearson correlation of every cell (column of ``acts``, (N, H)) with
    ``feature`` (N,) over the N steps: (H,); a cell or a feature that never changes
    gets 0."""
    _check_acts("acts", acts)
    _check_feature("feature", feature, len(acts))
    labels = torch.from_numpy(feature).to(acts.device)
    return label_correlation(acts, labels).cpu().numpy()


class Found(NamedTuple):
    """One feature's cell, as :func:`search_cells` finds it."""

    cell: int  # its index in the layer
    r: float  # its correlation on the text it was picked on
    r_test: float  # its correlation on the other text


def _check_features(name: str, features: Any, n: int) -> Mapping[str, Any]:
    checks.mapping(name, features)
    if not features:
        raise ValueError(f"{name} must hold at least one feature, got none")
    for key, value in features.items():
        checks.string(f"{name}'s key", key)
        _check_feature(f"{name}[{key!r}]", value, n)
    return features


def search_cells(
    acts: torch.Tensor,
    features: Mapping[str, np.ndarray],
    test_acts: torch.Tensor,
    test_features: Mapping[str, np.ndarray],
) -> dict[str, Found]:
    """For each feature, the cell whose activation (``acts``, (N, H)) has the largest
    absolute correlation with it (``features``: name -> (N,)), and that same cell's
    correlation on other text (``test_acts`` (M, H), ``test_features`` with the same
    names). Choosing the best of H cells flatters it on the text it was chosen on; the
    other text gives the number to report."""
    _check_acts("acts", acts)
    _check_features("features", features, len(acts))
    _check_acts("test_acts", test_acts)
    if test_acts.shape[1] != acts.shape[1]:
        raise ValueError(
            f"test_acts must have the {acts.shape[1]} cells of acts, got "
            f"{test_acts.shape[1]}"
        )
    _check_features("test_features", test_features, len(test_acts))
    if set(test_features) != set(features):
        raise ValueError(
            f"test_features must name the features of features, "
            f"{sorted(features)}, got {sorted(test_features)}"
        )
    found = {}
    for name, feature in features.items():
        r = correlations(acts, feature)
        cell = int(np.argmax(np.abs(r)))
        r_test = correlations(test_acts, test_features[name])[cell]
        found[name] = Found(cell, float(r[cell]), float(r_test))
    return found


def saturation(
    gate: torch.Tensor, low: float = 0.1, high: float = 0.9
) -> tuple[np.ndarray, np.ndarray]:
    """The share of steps each cell's gate (``gate``, (N, H), values in [0, 1]) is
    left-saturated (below ``low``) and right-saturated (above ``high``): two arrays (H,)."""
    checks.tensor("gate", gate, floating=True, ndim=2)
    checks.finite_tensor("gate", gate)
    if gate.min() < 0 or gate.max() > 1:
        raise ValueError(
            f"gate must hold gate values in [0, 1], got values from "
            f"{float(gate.min()):.3g} to {float(gate.max()):.3g}"
        )
    low = checks.fraction("low", low, open_low=True, open_high=True)
    high = checks.fraction("high", high, open_low=True, open_high=True)
    if low >= high:
        raise ValueError(f"low must be below high, got low={low}, high={high}")
    left = (gate < low).double().mean(0)
    right = (gate > high).double().mean(0)
    return left.cpu().numpy(), right.cpu().numpy()


def saturation_figure(trace: CellTrace, low: float = 0.1, high: float = 0.9):
    """Karpathy et al.'s saturation plot for one traced layer: a panel per gate (i, f,
    o), one dot per cell at (share of steps below ``low``, share above ``high``). A dot
    near the left edge is a gate that is rarely shut, near the bottom one rarely fully
    open; the diagonal is the limit (both shares add up to at most 1)."""
    import matplotlib.pyplot as plt

    from lstm_tutorial.plotting import COLORS

    checks.instance("trace", trace, CellTrace, "a CellTrace (from trace_cells)")
    low = checks.fraction("low", low, open_low=True, open_high=True)
    high = checks.fraction("high", high, open_low=True, open_high=True)
    if low >= high:
        raise ValueError(f"low must be below high, got low={low}, high={high}")
    names = {"i": "input", "f": "forget", "o": "output"}
    fig, axes = plt.subplots(1, 3, figsize=(9.0, 3.2), sharex=True, sharey=True)
    for ax, (gate, name) in zip(axes, names.items(), strict=True):
        left, right = saturation(getattr(trace, gate), low, high)
        ax.plot([0, 1], [1, 0], color="#999999", linewidth=1)
        ax.scatter(left, right, s=10, alpha=0.6, color=COLORS[name])
        ax.set(title=f"{name} gate", xlim=(0, 1), ylim=(0, 1), aspect="equal")
        ax.set_xlabel(f"share of steps < {low:g}")
    axes[0].set_ylabel(f"share of steps > {high:g}")
    return fig


class QuotePredictions(NamedTuple):
    """What :func:`quote_predictions` measures on a text."""

    bits: float  # bits per character, every prediction of the text
    closing: float  # mean probability of the closing quote, just before one
    stray: float  # mean probability of " or ' where no quote comes next
    n_closing: int  # how many closing quotes the text has


#: The quote characters :func:`in_quotes` knows.
QUOTES = "\"'"


def quote_predictions(
    logits: torch.Tensor, text: str, vocab: Any
) -> QuotePredictions:
    """How a model predicts ``text`` from its ``logits`` ((N, V), row t the scores for
    character t + 1, as :func:`trace_cells` returns them), quotes apart.

    ``bits``: the mean of -log2 p(text[t + 1]) over the N - 1 predictions. ``closing``:
    the mean p of the next character at the steps where it is a quote that closes a
    string (:func:`in_quotes` is 1 after t and 0 after t + 1); ``stray``: the mean of
    p(") + p(') at the steps where the next character is no quote. A clamped cell that
    tracks quotes should move the last two."""
    from lstm_tutorial.text import Vocab

    checks.string("text", text)
    if len(text) < 2:
        raise ValueError(
            f"text must have at least 2 characters, got {len(text)}"
        )
    checks.instance("vocab", vocab, Vocab, "a Vocab (from load_showcase)")
    checks.tensor("logits", logits, floating=True, ndim=2)
    checks.finite_tensor("logits", logits)
    if tuple(logits.shape) != (len(text), vocab.size):
        raise ValueError(
            f"logits must be (len(text), vocab.size) = ({len(text)}, {vocab.size}), "
            f"got {tuple(logits.shape)}"
        )
    missing = [q for q in QUOTES if q not in vocab.index]
    if missing:
        raise ValueError(
            f"vocab must hold the quote characters, lacks {missing}"
        )
    ids = vocab.encode(list(text)).to(logits.device)
    logp = torch.log_softmax(logits[:-1].double(), dim=-1)  # (N - 1, V)
    logp_next = logp.gather(1, ids[1:, None])[:, 0].cpu().numpy()
    p_next = np.exp(logp_next)
    quote_ids = [vocab.index[q] for q in QUOTES]
    p_quote = logp[:, quote_ids].exp().sum(-1).cpu().numpy()
    inside = in_quotes(text)
    is_quote = np.array([ch in QUOTES for ch in text[1:]])
    closes = (inside[:-1] == 1) & (inside[1:] == 0) & is_quote
    closing = float(p_next[closes].mean()) if closes.any() else float("nan")
    return QuotePredictions(
        bits=float(-logp_next.mean() / np.log(2)),
        closing=closing,
        stray=float(p_quote[~is_quote].mean()),
        n_closing=int(closes.sum()),
    )


# ------------------------------------------------------------------------ the page

#: The background colours at -1 and +1 (white at 0): blue and red.
NEGATIVE, POSITIVE = (33, 102, 172), (214, 47, 39)


def _colour(value: float) -> str:
    """#rrggbb between white (0) and NEGATIVE (-1) or POSITIVE (+1)."""
    end = POSITIVE if value > 0 else NEGATIVE
    t = min(abs(value), 1.0)
    rgb = [round(255 + (e - 255) * t) for e in end]
    return "#" + "".join(f"{v:02x}" for v in rgb)


def activation_html(
    text: str,
    values: np.ndarray,
    *,
    scale: float = 1.0,
    title: str | None = None,
) -> str:
    """``text`` as a block of HTML, each character on a background coloured by its
    value (``values``, (N,)): white at 0, red up to ``+scale``, blue down to ``-scale``
    (beyond, the colour stays). Newlines show as a small arrow before the line break;
    spaces are kept. Inline styles only: no script, no style sheet, nothing fetched.
    ``title`` is written above the text. Show it with ``IPython.display.HTML``."""
    checks.string("text", text)
    checks.array("values", values, kind="float", ndim=1, finite=True)
    if len(values) != len(text):
        raise ValueError(
            f"values must have one entry per character of text ({len(text)}), "
            f"got {len(values)}"
        )
    scale = checks.positive_number("scale", scale)
    checks.optional(checks.string, "title", title)
    parts = []
    if title is not None:
        parts.append(
            '<div style="font-size:0.9em;margin:0.2em 0">'
            f"{html_escape.escape(title)}</div>"
        )
    parts.append(
        '<div style="font-family:monospace;font-size:0.85em;line-height:1.6;'
        "white-space:pre-wrap;overflow-wrap:anywhere;background:#ffffff;"
        'color:#111111;padding:0.4em;border:1px solid #cccccc">'
    )
    for ch, value in zip(text, values, strict=True):
        shown = "\u21b5" if ch == "\n" else html_escape.escape(ch)
        colour = _colour(float(value) / scale)
        parts.append(f'<span style="background:{colour}">{shown}</span>')
        if ch == "\n":
            parts.append("<br>")
    parts.append("</div>")
    return "".join(parts)


# ------------------------------------------------------------------ exercise checks

#: The texts :func:`check_bracket_depth` tries, each with what it tests.
BRACKET_CASES = (
    ("f(a[1], {b: 2})", "the three kinds of bracket, nested"),
    ("x = (1 + 2)) * 3", "a closing bracket with none open is ignored"),
    ("items: 1) one 2) two", "a closing bracket with none open is ignored"),
    ("call(a,\n     b)", "a bracket stays open across a line break"),
    ("open (\n\nnext", "a blank line sets the depth back to 0"),
    ("[\n   \n]", "a line of only spaces is a blank line too"),
    ("", "an empty text gives an empty array"),
)


def check_bracket_depth(fn: Callable[[str], Any]) -> bool:
    """Check ``fn(text) -> depth``, a float array (N,) like :func:`bracket_depth`, on the
    texts of :data:`BRACKET_CASES`. Prints, for the first text where it differs, the
    character and what was expected; returns True if all agree."""
    checks.function("fn", fn)
    note_stand_in(fn)
    lines: list[str] = []
    say = lines.append
    for text, what in BRACKET_CASES:
        want = bracket_depth(text)
        got = as_array(f"fn({text!r})", fn(text), want.shape, say)
        if got is None:
            return verdict(False, lines)
        wrong = np.flatnonzero(got != want)
        if wrong.size:
            k = int(wrong[0])
            say(
                f"fn({text!r}): wrong after character {k} ({text[k]!r}): "
                f"expected depth {want[k]:g}, got {got[k]:g}"
            )
            say(f"  this text checks that {what}")
            return verdict(False, lines)
    say(f"all {len(BRACKET_CASES)} texts right")
    return verdict(True, lines)


def check_lstm_step(fn: Callable[..., Any]) -> bool:
    """Check ``fn(x, h, c, w_ih, w_hh, b) -> (h, c, (i, f, g, o))``, one step of an
    nn.LSTM layer, against :func:`lstm_step` and ``torch.nn.LSTMCell`` on fixed random
    float64 inputs (B = 2, D = 3, H = 4). Prints what differs; returns True if all
    agree."""
    checks.function("fn", fn)
    note_stand_in(fn)
    generator = torch.Generator().manual_seed(4)
    B, D, H = 2, 3, 4
    cell = nn.LSTMCell(D, H, dtype=torch.float64)
    with torch.no_grad():
        for p in cell.parameters():
            p.copy_(torch.randn(p.shape, generator=generator, dtype=p.dtype))
    x, h, c = (
        torch.randn(B, n, generator=generator, dtype=torch.float64)
        for n in (D, H, H)
    )
    w_ih, w_hh = cell.weight_ih.detach(), cell.weight_hh.detach()
    b = (cell.bias_ih + cell.bias_hh).detach()
    want_h, want_c, want_gates = lstm_step(x, h, c, w_ih, w_hh, b)
    lines: list[str] = []
    say = lines.append
    result = fn(x.clone(), h.clone(), c.clone(), w_ih, w_hh, b)
    if not is_tuple(result, "(h, c, gates)", say):
        return verdict(False, lines)
    if not is_tuple(result[2], "(i, f, g, o)", say):
        return verdict(False, lines)
    got = {}
    values = (*result[:2], *result[2])  # lengths checked by is_tuple
    for name, value in zip(("h", "c", *GATES), values, strict=True):
        if isinstance(value, torch.Tensor):
            value = value.detach().numpy()
        got[name] = as_array(name, value, (B, H), say)
    if any(v is None for v in got.values()):
        return verdict(False, lines)
    wants = dict(zip(GATES, want_gates, strict=True))
    gates_ok = all([compare(n, got[n], wants[n].numpy(), say) for n in GATES])
    if not gates_ok:
        say(
            "  hint: torch stacks the rows of w_ih, w_hh and b in the order "
            "i, f, g, o: z.chunk(4, dim=-1) gives them in that order"
        )
    ok = compare("c", got["c"], want_c.numpy(), say) and gates_ok
    ok = compare("h", got["h"], want_h.numpy(), say) and ok
    if ok:
        with torch.no_grad():
            torch_h, torch_c = cell(x, (h, c))
        ok = compare("h against nn.LSTMCell", got["h"], torch_h.numpy(), say)
        ok = (
            compare("c against nn.LSTMCell", got["c"], torch_c.numpy(), say)
            and ok
        )
    return verdict(ok, lines)
