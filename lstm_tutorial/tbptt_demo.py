"""Pictures, measurements and the exercise check of the chapter "Truncated BPTT in PyTorch".

Part V, chapter 1. The training itself lives in :mod:`lstm_tutorial.textlm` (``fit_lm``,
``detach_state``, ``evaluate``) and the batches in :mod:`lstm_tutorial.text`
(``StreamBatches``); this module only shows and measures them:

- :func:`stream_figure` draws a text cut into B streams, read in windows of T columns,
  the state carried (and detached) from one window to the next.
- :class:`SavedTensors` counts the bytes of the tensors autograd keeps for the backward
  pass (through ``torch.autograd.graph.saved_tensors_hooks``), while they are alive.
- :func:`graph_growth` runs forward and backward passes over consecutive windows with the
  state detached or not, and records the CPU time of each step, the bytes autograd keeps
  and the number of nodes of the graph behind the loss; :func:`growth_figure` plots them.
- :func:`evaluate_from_zeros` is ``textlm.evaluate`` with the state reset to zeros at
  every window instead of carried, to measure what carrying it buys.
- :func:`source_lines` shows a few lines of a long function of the package (the loop of
  ``fit_lm``), and :func:`error_text` an exception as one short line.
- :func:`check_stream_batches` checks a student's stream batcher against
  ``StreamBatches`` on fixed inputs.

Checks. Every public function checks its arguments with :mod:`lstm_tutorial.checks`
before any work (a TypeError or ValueError naming the argument). What a student's
function returns is judged, never trusted: a wrong type or shape is a line of the
check's printout (and the result False), not an exception.
"""

from __future__ import annotations

import textwrap
import time
import weakref
from collections.abc import Callable, Iterable, Mapping
from itertools import cycle, islice
from typing import Any, NamedTuple

import matplotlib.pyplot as plt
import torch
from matplotlib.figure import Figure
from matplotlib.patches import FancyArrowPatch, Rectangle
from torch import nn

from lstm_tutorial import checks
from lstm_tutorial.display import SourceCode, show_source
from lstm_tutorial.grading import note_stand_in, verdict
from lstm_tutorial.text import StreamBatches
from lstm_tutorial.textlm import detach_state, evaluate, lm_loss
from lstm_tutorial.torch_lstm import autograd_graph

#: The most characters :func:`stream_figure` draws (more would not fit 10 inches legibly).
MAX_FIGURE_CHARS = 120
#: The widest line :func:`error_text` writes, the width of the book's output blocks.
LINE_WIDTH = 80

# ------------------------------------------------------------------------- the picture

_STREAM_COLORS = (
    "#386cb0",
    "#d95f02",
    "#1b9e77",
    "#7570b3",
    "#e7298a",
    "#a6761d",
)
_UNREAD = "#bbbbbb"
_CELL = 0.19  # inches per character in the grid
_GAP = 0.55  # inches between two windows
_FONT = 10


def _shown(char: str) -> str:
    return {" ": "\u2423", "\n": "\u21b5", "\t": "\u21e5"}.get(char, char)


def stream_figure(text: str, batch_size: int, seq_len: int) -> Figure:
    """``text`` as :class:`StreamBatches` reads it, characters for tokens.

    Top: the text as one line, each character coloured by the stream (row) it goes to,
    the ones no stream reads in grey. Below: the B rows, split into windows of T columns
    (the last one shorter when T does not divide the stream length), with arrows where
    the state at the end of a window becomes the start state of the next. Spaces show as
    a small open box, newlines as a return arrow.
    """
    text = checks.string("text", text)
    batch_size = checks.positive_int("batch_size", batch_size)
    seq_len = checks.positive_int("seq_len", seq_len)
    if len(text) > MAX_FIGURE_CHARS:
        raise ValueError(
            f"text has {len(text)} characters, more than the {MAX_FIGURE_CHARS} "
            "a figure of the book's width shows legibly"
        )
    S = (len(text) - 1) // batch_size
    if batch_size > len(_STREAM_COLORS):
        raise ValueError(
            f"batch_size must be at most {len(_STREAM_COLORS)} in a figure, "
            f"got {batch_size}"
        )
    if S < seq_len:
        raise ValueError(
            f"text ({len(text)} characters) is too short for batch_size="
            f"{batch_size} and seq_len={seq_len}: it needs at least "
            f"{batch_size * seq_len + 1}"
        )
    windows = [
        (k, min(k + seq_len, S)) for k in range(0, S, seq_len)
    ]  # the columns of each window
    width = S * _CELL + (len(windows) - 1) * _GAP + 1.9  # labels, margin
    top_cell = min(_CELL, (width - 1.4) / len(text))
    if width > 10:
        raise ValueError(
            f"the windows need a figure {width:.1f} inches wide, more than 10: "
            "use a shorter text or a larger batch_size"
        )
    height = 1.5 + batch_size * 0.34 + 0.3
    fig = plt.figure(figsize=(width, height), layout="none")
    ax = fig.add_axes((0, 0, 1, 1))  # one data unit is one inch
    ax.set_xlim(0, width)
    ax.set_ylim(0, height)
    ax.axis("off")
    left = 1.2
    # the text as one line
    y_text = height - 0.35
    ax.text(0.05, y_text, "the text", fontsize=_FONT, va="center")
    for n, char in enumerate(text):
        # the character after the last stream is its last target
        row = min(n // S, batch_size - 1) if n <= S * batch_size else None
        color = _UNREAD if row is None else _STREAM_COLORS[row]
        ax.text(
            left + (n + 0.5) * top_cell,
            y_text,
            _shown(char),
            fontsize=_FONT - 1,
            family="monospace",
            ha="center",
            va="center",
            color=color,
        )
    # the grid of streams and windows
    unread = len(text) - 1 - S * batch_size
    caption = (
        f"cut into B = {batch_size} streams of S = {S} characters, one per "
        "row" + (f"; {unread} at the end never read" if unread else "")
    )
    ax.text(left, y_text - 0.33, caption, fontsize=_FONT, va="center")
    y0 = height - 1.45
    for b in range(batch_size):
        y = y0 - b * 0.34
        ax.text(0.05, y, f"stream {b + 1}", fontsize=_FONT, va="center")
        for w, (start, stop) in enumerate(windows):
            x_left = left + start * _CELL + w * _GAP
            for col in range(start, stop):
                ax.text(
                    x_left + (col - start + 0.5) * _CELL,
                    y,
                    _shown(text[b * S + col]),
                    fontsize=_FONT,
                    family="monospace",
                    ha="center",
                    va="center",
                    color=_STREAM_COLORS[b],
                )
            if w + 1 < len(windows):
                x_end = x_left + (stop - start) * _CELL
                ax.add_patch(
                    FancyArrowPatch(
                        (x_end + 0.05, y),
                        (x_end + _GAP - 0.05, y),
                        arrowstyle="-|>",
                        mutation_scale=10,
                        color="#333333",
                    )
                )
    for w, (start, stop) in enumerate(windows):
        x_left = left + start * _CELL + w * _GAP
        box_top = y0 + 0.2
        box_height = 0.34 * batch_size
        ax.add_patch(
            Rectangle(
                (x_left - 0.03, box_top - box_height),
                (stop - start) * _CELL + 0.06,
                box_height,
                fill=False,
                edgecolor="#555555",
            )
        )
        ax.text(
            x_left + (stop - start) * _CELL / 2,
            box_top + 0.12,
            f"window {w + 1}: {batch_size} \u00d7 {stop - start}",
            fontsize=_FONT,
            ha="center",
            va="bottom",
        )
    y_note = y0 - batch_size * 0.34 + 0.02
    ax.text(
        left,
        y_note,
        "\u2192  the state (h, c) at the end of a window starts the next "
        "window, detached",
        fontsize=_FONT,
        va="center",
    )
    return fig


# ------------------------------------------------------------ what autograd keeps


class _Saved:
    """One tensor autograd saved; its death means autograd let go of it."""

    __slots__ = ("tensor", "__weakref__")

    def __init__(self, tensor: torch.Tensor) -> None:
        self.tensor = tensor


class SavedTensors:
    """The bytes of the tensors autograd saves for backward, while it keeps
    them.

    Inside ``with counter:`` every tensor an operation saves for its backward
    pass goes through a hook that notes its storage; when autograd frees it
    (after ``backward``, or when nothing refers to the graph any more) the
    note goes. :attr:`bytes` counts each live storage once (views of one
    tensor share it). Tensors of ``exclude`` (the model's parameters, which
    exist anyway) are not counted. A counter can be entered again and again;
    its count spans all those entries.
    """

    def __init__(self, exclude: Iterable[torch.Tensor] = ()) -> None:
        if isinstance(exclude, torch.Tensor):
            exclude = [exclude]
        try:
            excluded = list(exclude)
        except TypeError:
            raise checks.ArgumentTypeError(
                "exclude must be tensors (such as model.parameters()), got "
                f"{checks.describe(exclude)}"
            ) from None
        for k, tensor in enumerate(excluded):
            checks.tensor(f"exclude[{k}]", tensor, nonempty=False)
        self._skip = {t.untyped_storage().data_ptr() for t in excluded}
        self._count: dict[int, int] = {}
        self._size: dict[int, int] = {}
        self._hooks: list[Any] = []

    @property
    def bytes(self) -> int:
        """The bytes of the saved tensors alive now, each storage once."""
        return sum(self._size.values())

    def _pack(self, tensor: torch.Tensor) -> _Saved:
        saved = _Saved(tensor)
        storage = tensor.untyped_storage()
        key = storage.data_ptr()
        if key not in self._skip:
            self._count[key] = self._count.get(key, 0) + 1
            self._size[key] = storage.nbytes()
            weakref.finalize(saved, self._forget, key)
        return saved

    def _forget(self, key: int) -> None:
        self._count[key] -= 1
        if not self._count[key]:
            del self._count[key], self._size[key]

    @staticmethod
    def _unpack(saved: _Saved) -> torch.Tensor:
        return saved.tensor

    def __enter__(self) -> SavedTensors:
        hooks = torch.autograd.graph.saved_tensors_hooks(
            self._pack, self._unpack
        )
        hooks.__enter__()
        self._hooks.append(hooks)
        return self

    def __exit__(self, *exc: Any) -> None:
        self._hooks.pop().__exit__(*exc)


class Growth(NamedTuple):
    """What :func:`graph_growth` records, one entry per step."""

    seconds: list[float]  # CPU seconds of the forward and backward pass
    saved_mb: list[float]  # MB (10^6 bytes) autograd keeps before backward
    nodes: list[int]  # nodes of the autograd graph behind the loss


def _check_growth(model, batches, steps, detach, flush_denormal) -> None:
    checks.instance("model", model, nn.Module, "a TextLM")
    checks.instance("batches", batches, StreamBatches, "a StreamBatches")
    checks.positive_int("steps", steps)
    if steps > len(batches):
        raise ValueError(
            f"steps must be at most the {len(batches)} windows of batches, "
            f"got {steps}"
        )
    checks.boolean("detach", detach)
    checks.boolean("flush_denormal", flush_denormal)


def graph_growth(
    model: nn.Module,
    batches: StreamBatches,
    steps: int,
    *,
    detach: bool = True,
    flush_denormal: bool = False,
) -> Growth:
    """Forward and backward passes over the first ``steps`` windows of
    ``batches``, the state carried from window to window, detached or not.

    The parameters are not updated (an update in place would break a kept
    graph); one untimed step comes first. It runs on one thread; with
    ``flush_denormal``, floats too small to be normal become zeros
    (PyTorch's default, False, is what it leaves behind).
    """
    _check_growth(model, batches, steps, detach, flush_denormal)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    torch.set_flush_denormal(flush_denormal)
    saved = SavedTensors(exclude=model.parameters())
    growth, state = Growth([], [], []), None
    model.train()
    try:
        inputs, targets = next(iter(batches))  # one untimed warm-up step
        lm_loss(model, inputs, targets)[0].backward()
        model.zero_grad(set_to_none=True)
        for inputs, targets in islice(batches, steps):
            start = time.process_time()
            with saved:
                loss, out = lm_loss(model, inputs, targets, state)
            growth.saved_mb.append(saved.bytes / 1e6)  # before backward
            loss.backward(retain_graph=not detach)
            growth.seconds.append(time.process_time() - start)
            growth.nodes.append(sum(autograd_graph(loss).values()))
            model.zero_grad(set_to_none=True)
            state = detach_state(out.state) if detach else out.state
    finally:
        torch.set_num_threads(threads)
        torch.set_flush_denormal(False)
    return growth


def growth_figure(runs: Mapping[str, Growth]) -> Figure:
    """Two panels against the step: the MB autograd keeps, and the CPU
    milliseconds per step, one line per run (name -> :class:`Growth`)."""
    checks.mapping("runs", runs)
    if not runs:
        raise ValueError("runs must name at least one Growth, got none")
    for name, run in runs.items():
        checks.string("runs key", name)
        checks.instance(f"runs[{name!r}]", run, Growth, "a Growth")
    fig, (left, right) = plt.subplots(1, 2, figsize=(9.0, 3.4))
    dashes = cycle(("-", "--", ":", "-."))
    for name, run in runs.items():
        steps = range(1, len(run.seconds) + 1)
        style = {"marker": ".", "linestyle": next(dashes)}
        left.plot(steps, run.saved_mb, label=name, **style)
        right.plot(steps, [1e3 * s for s in run.seconds], **style)
    left.set(xlabel="step", ylabel="MB autograd keeps")
    right.set(xlabel="step", ylabel="CPU ms per step", yscale="log")
    left.legend(fontsize=10)
    return fig


# ------------------------------------------------------------- evaluation from zeros


class _FromZeros(nn.Module):
    """``model`` with the state it is given dropped: every call starts from zeros."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, inputs, state=None):
        return self.model(inputs, None)


def evaluate_from_zeros(model: nn.Module, batches: StreamBatches) -> dict:
    """:func:`~lstm_tutorial.textlm.evaluate`, but every window starts from
    a zero state: the same keys (loss in nats, bits per token, ...)."""
    checks.instance("model", model, nn.Module, "a TextLM")
    checks.instance("batches", batches, StreamBatches, "a StreamBatches")
    return evaluate(_FromZeros(model), batches)


# -------------------------------------------------------------- part of a source


def source_lines(obj: object, first: str, last: str) -> SourceCode:
    """The lines of ``obj``'s source from the first that contains ``first`` to
    the next that contains ``last``, both included, ready to display.

    For a page that teaches a few lines of a long function: the code shown is
    still the package's own (its docstring left out). Code wider than the
    book's code column, or a ``first`` or ``last`` not found, is a ValueError.
    """
    checks.string("first", first)
    checks.string("last", last)
    whole = show_source(obj, docstring=False)  # checks obj and the widths
    lines = whole.code.splitlines()
    start = next((k for k, s in enumerate(lines) if first in s), None)
    if start is None:
        raise ValueError(
            f"first={first!r} is not in the source of {whole.title}"
        )
    stop = next((k for k in range(start, len(lines)) if last in lines[k]), None)
    if stop is None:
        raise ValueError(
            f"last={last!r} is not in the source of {whole.title} after "
            f"first={first!r}"
        )
    code = textwrap.dedent("\n".join(lines[start : stop + 1]))
    return SourceCode(code, title=f"{whole.title} (excerpt)")


# ----------------------------------------------------------------------- one line


def error_text(error: BaseException, width: int = LINE_WIDTH) -> str:
    """``error`` as "Type: the first clause of its message" (cut at the
    first " (", ": " or ". "), on one line when it fits in ``width``
    characters, else wrapped at ``width``."""
    checks.instance("error", error, BaseException, "an exception")
    width = checks.integer("width", width, minimum=20)
    lines = str(error).strip().splitlines()
    message = lines[0] if lines else ""
    for mark in (" (", ": ", ". "):
        if mark in message:
            message = message[: message.index(mark)]
    name = type(error).__name__
    return textwrap.fill(f"{name}: {message}" if message else name, width)


# ------------------------------------------------------------------ the exercise check

#: The fixed inputs of :func:`check_stream_batches`: (N, B, T).
CHECK_CASES = ((50, 3, 7), (29, 4, 7), (41, 2, 5))


def _judge_window(k, name, got, want, say) -> bool:
    label = f"window {k + 1}, {name}"
    if not isinstance(got, torch.Tensor):
        say(f"{label}: expected a torch tensor, got {checks.describe(got)}")
        return False
    if got.dtype != torch.int64:
        say(f"{label}: expected dtype torch.int64, got {got.dtype}")
        return False
    if tuple(got.shape) != tuple(want.shape):
        hint = ""
        if tuple(got.shape) == tuple(want.shape)[::-1]:
            hint = ": it looks time-major (T, B); the rows are the streams"
        say(
            f"{label}: expected shape {tuple(want.shape)} (B, T), got "
            f"{tuple(got.shape)}{hint}"
        )
        return False
    if not torch.equal(got, want):
        b, t = (int(i) for i in (got != want).nonzero()[0])
        say(
            f"{label}: wrong ids, first at [{b}, {t}] (stream {b + 1}, "
            f"column {t + 1}): expected {int(want[b, t])}, got {int(got[b, t])}"
        )
        return False
    return True


def check_stream_batches(fn: Callable[..., Any]) -> bool:
    """Check ``fn(ids, batch_size, seq_len) -> windows`` against
    :class:`StreamBatches` (``drop_last=False``) on the ids 0..N-1 (so an id is
    its position in the text) for each (N, B, T) of :data:`CHECK_CASES`: the
    number of windows, and each window's (inputs, targets), int64 (B, T).
    Prints what agrees and what differs; returns True if all agree."""
    checks.function("fn", fn)
    note_stand_in(fn)
    lines: list[str] = []
    say = lines.append
    ok = True
    for n, batch_size, seq_len in CHECK_CASES:
        ids = torch.arange(n)
        want = list(StreamBatches(ids, batch_size, seq_len))
        case = f"N={n}, B={batch_size}, T={seq_len}"
        result = fn(ids.clone(), batch_size, seq_len)  # its errors: its own
        try:
            got = list(result)
        except TypeError:
            say(
                f"{case}: fn must return windows (a list or a generator), "
                f"got {checks.describe(result)}"
            )
            ok = False
            continue
        if len(got) != len(want):
            say(
                f"{case}: expected {len(want)} windows, got {len(got)} "
                f"(streams of S = (N - 1) // B = {(n - 1) // batch_size})"
            )
            ok = False
            continue
        right = True
        for k, (window, (x, y)) in enumerate(zip(got, want, strict=True)):
            if not (isinstance(window, tuple | list) and len(window) == 2):
                say(
                    f"{case}, window {k + 1}: expected a pair (inputs, "
                    f"targets), got {checks.describe(window)}"
                )
                right = False
                break
            if not _judge_window(k, "inputs", window[0], x, say):
                right = False
                break
            if not _judge_window(k, "targets", window[1], y, say):
                say("  the targets are the inputs shifted by one id")
                right = False
                break
        if right:
            windows = "window" if len(want) == 1 else "windows"
            say(f"{case}: right ({len(want)} {windows})")
        ok = ok and right
    return verdict(ok, lines)
