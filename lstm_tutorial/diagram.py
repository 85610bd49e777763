"""The LSTM cell drawn with matplotlib, each line as wide as the information it carries.

A *step* is a mapping with the values of one time step of the cell, all 1-D arrays:
``x`` (D,) the input; ``h_prev``, ``c_prev`` (H,) the states read; ``i``, ``f``, ``g``,
``o`` (H,) the gates and the candidate; ``c``, ``h`` (H,) the states written.
:func:`flow_amounts` turns a step into one number per path of the diagram (the mean
absolute value over the units of what flows there), :func:`line_width` turns an amount into
a line width, and :func:`draw_cell` / :func:`draw_unrolled` draw the looped and the unrolled
view of the cell; :func:`draw_looped_and_unrolled` draws both side by side, from the same
steps. :func:`plot_gates_per_word` and :func:`plot_states_per_word` follow the gates and the
states over a sentence, and :func:`draw_stack` draws a stacked LSTM unrolled in time.

Every figure a function makes is at most :data:`MAX_WIDTH` inches wide (the book's column
shows it at 0.6 of its natural size or more), and every text in it is 9 pt or larger.

Checks. Every public function checks its arguments before drawing anything (with
:mod:`lstm_tutorial.checks`; the error names the argument): a step is a mapping with
exactly the keys of :data:`STEP_KEYS`, each a finite 1-D NumPy array of real numbers (a
list or a tensor is refused), gates in their ranges; per-word values are finite (T, H)
arrays with T = the number of words; words and unit names are lists or tuples of strings;
sizes are integers >= 1; ``ax`` is a matplotlib Axes or None, titles strings or None.
``flow_amounts`` and ``line_width``, which the book shows, check in their first line.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Circle, FancyBboxPatch, Rectangle

from lstm_tutorial import checks
from lstm_tutorial.plotting import COLORS

#: An amount: one number, or an array of numbers.
Amount = float | np.ndarray
#: The values a step must hold.
STEP_KEYS = ("x", "h_prev", "c_prev", "i", "f", "g", "o", "c", "h")
#: The paths of the diagram, in the order :func:`flow_amounts` returns them.
PATHS = (
    "x",
    "h_prev",
    "c_prev",
    "f",
    "i",
    "g",
    "o",
    "fc",
    "ig",
    "c",
    "tanh_c",
    "h",
)
#: Line widths in points: an amount of 0 is drawn THINNEST, an amount of ``full`` THICKEST.
THINNEST, THICKEST = 0.8, 9.0
#: The widest figure the book's column shows without shrinking it below 0.6, in inches.
MAX_WIDTH = 10.0
#: Paths carrying less than this are drawn dotted: the path exists but nothing flows.
NO_FLOW = 0.02
#: Which paths belong to which part of the cell (used by ``highlight``).
PARTS = {
    "forget": ("x", "h_prev", "c_prev", "f", "fc"),
    "input": ("x", "h_prev", "i", "g", "ig"),
    "cell": ("c_prev", "fc", "ig", "c"),
    "output": ("x", "h_prev", "c", "tanh_c", "o", "h"),
}

_GREY = "#555555"
_INPUT_GREY = "#8c8c8c"
# Layout of one cell in data units (the cell's box spans x 0.9..10.1, y -0.45..6.75).
_Y_CELL, _Y_BUS, _Y_GATE = (
    5.0,
    0.8,
    1.6,
)  # the conveyor belt, the input bus, the gate boxes
_X_F, _X_I, _X_G, _X_O, _X_T = (
    2.0,
    3.6,
    5.2,
    7.0,
    8.8,
)  # f, i, g, o columns; tanh(c_t), x o
_Y_IG, _Y_TANH, _Y_XO = (
    3.65,
    3.8,
    2.55,
)  # the i*g valve, the tanh(c_t) box, the o valve
_X_IN, _X_OUT, _X_JOIN = (
    -0.6,
    10.6,
    0.3,
)  # where the states enter and leave; where x joins h
_R = 0.3  # radius of the round valves
_SPACING = 12.6  # distance between cells in the unrolled view


def check_step(
    step: Mapping[str, object], *, name: str = "step"
) -> dict[str, np.ndarray]:
    """Validate a step and return it as float64 arrays (see the module docstring).

    Raises TypeError or ValueError for something that is not a mapping, a missing or unknown
    key, a value that is not a finite 1-D NumPy array of real numbers, state and gate
    vectors of different lengths, or gate values outside their ranges ((0, 1) for i, f, o;
    (-1, 1) for g and h). ``name`` is the step's name in the messages (``steps[2]``).
    """
    checks.string("name", name)
    if not isinstance(step, Mapping):
        raise checks.ArgumentTypeError(
            f"{name} must be a mapping with keys {STEP_KEYS}, got {checks.describe(step)}"
        )
    missing = [key for key in STEP_KEYS if key not in step]
    if missing:
        raise ValueError(
            f"{name} is missing {missing}; a step needs the keys {STEP_KEYS}"
        )
    checks.no_unknown_keys(name, step, STEP_KEYS)
    values = {}
    for key in STEP_KEYS:
        where = f"{name}[{key!r}]"
        value = _real_array(where, step[key])
        if value.ndim != 1 or value.size == 0 or not np.all(np.isfinite(value)):
            raise ValueError(
                f"{where} must be a non-empty finite 1-D array (one value per unit), "
                f"got shape {value.shape}"
                + (
                    ""
                    if value.ndim != 1 or value.size == 0
                    else " holding NaN or inf"
                )
            )
        values[key] = value.astype(np.float64)
    H = values["c"].shape[0]
    wrong = {
        k: v.shape for k, v in values.items() if k != "x" and v.shape != (H,)
    }
    if wrong:
        raise ValueError(
            f"every state and gate of {name} must have shape ({H},) like {name}['c'], got {wrong}"
        )
    for key, (low, high) in {
        "i": (0, 1),
        "f": (0, 1),
        "o": (0, 1),
        "g": (-1, 1),
    }.items():
        if np.any(values[key] < low) or np.any(values[key] > high):
            raise ValueError(
                f"{name}[{key!r}] must lie in [{low}, {high}], got {values[key]}"
            )
    if np.any(np.abs(values["h"]) > 1):
        raise ValueError(
            f"{name}['h'] = o * tanh(c) must lie in [-1, 1], got {values['h']}"
        )
    return values


def flow_amounts(step: Mapping[str, object]) -> dict[str, float]:
    """How much information flows on each path: the mean |value| over units.

    Keys are PATHS: "fc" is f * c_prev, "ig" is i * g, "tanh_c" is tanh(c).
    The input x is the exception: it is one-hot, so its mean says more about
    the size of the vocabulary than about the word, and its amount is its
    largest |value| instead.
    """
    s = check_step(step)

    def mean_abs(v: np.ndarray) -> float:
        return float(np.mean(np.abs(v)))

    amounts = {"x": float(np.max(np.abs(s["x"])))}
    for key in ("h_prev", "c_prev", "f", "i", "g", "o", "c", "h"):
        amounts[key] = mean_abs(s[key])
    amounts["fc"] = mean_abs(s["f"] * s["c_prev"])
    amounts["ig"] = mean_abs(s["i"] * s["g"])
    amounts["tanh_c"] = mean_abs(np.tanh(s["c"]))
    return {key: amounts[key] for key in PATHS}


def line_width(amount: Amount, *, full: float = 1.0) -> Amount:
    """Line width in points for an amount >= 0: THINNEST at 0, THICKEST at
    full.

    Linear, so strictly increasing in amount; amounts above full get wider
    lines. Accepts a number or an array of numbers.
    """
    a = _check_width(amount, full)  # amount as float64, >= 0
    width = THINNEST + (THICKEST - THINNEST) * a / full
    return float(width) if width.ndim == 0 else width


class _Painter:
    """Draws one cell at offset (``dx``, ``dy``); fades what ``highlight`` leaves out."""

    def __init__(self, ax, dx, amounts, full, highlight, fontsize, dy=0.0):
        self.ax, self.dx, self.dy, self.amounts, self.full = (
            ax,
            dx,
            dy,
            amounts,
            full,
        )
        self.highlight = highlight
        self.fontsize = fontsize

    def alpha(self, path: str | None) -> float:
        if self.highlight is None or path is None:
            return 1.0
        return (
            1.0 if any(path in PARTS[part] for part in self.highlight) else 0.15
        )

    def line(self, points, path, color, arrow=False):
        xs = [x + self.dx for x, _ in points]
        ys = [y + self.dy for _, y in points]
        amount = self.amounts[path]
        alpha = self.alpha(path)
        if amount < NO_FLOW:
            style = {
                "lw": THINNEST * 1.3,
                "ls": (0, (1.5, 1.5)),
                "color": color,
            }
        else:
            style = {
                "lw": line_width(amount, full=self.full),
                "ls": "-",
                "color": color,
            }
        self.ax.plot(
            xs,
            ys,
            alpha=alpha,
            solid_capstyle="butt",
            solid_joinstyle="round",
            zorder=2,
            **style,
        )
        if arrow:
            self.ax.annotate(
                "",
                xy=(xs[-1], ys[-1]),
                xytext=(xs[-2], ys[-2]),
                arrowprops={
                    "arrowstyle": "-|>",
                    "color": color,
                    "lw": 0,
                    "alpha": alpha,
                    "mutation_scale": 10 + 1.2 * style["lw"],
                    "shrinkA": 0,
                    "shrinkB": 0,
                },
                zorder=2,
            )

    def valve(self, xy, symbol, path):
        x, y = xy[0] + self.dx, xy[1] + self.dy
        alpha = self.alpha(path)
        self.ax.add_patch(
            Circle(
                (x, y),
                _R,
                fc="white",
                ec="black",
                lw=1.2,
                zorder=4,
                alpha=alpha,
            )
        )
        self.ax.text(
            x,
            y,
            symbol,
            ha="center",
            va="center",
            fontsize=self.fontsize + 2,
            zorder=5,
            alpha=alpha,
        )

    def box(self, xy, label, color, path, width=1.0):
        x, y = xy[0] + self.dx, xy[1] + self.dy
        alpha = self.alpha(path)
        self.ax.add_patch(
            FancyBboxPatch(
                (x - width / 2, y - 0.33),
                width,
                0.66,
                boxstyle="round,pad=0.02,rounding_size=0.12",
                fc=color,
                ec="black",
                lw=1.0,
                zorder=4,
                alpha=alpha,
            )
        )
        size = self.fontsize + (1 if len(label) == 1 else -1)
        self.ax.text(
            x,
            y,
            label,
            ha="center",
            va="center",
            fontsize=size,
            color="white",
            fontweight="bold",
            zorder=5,
            alpha=alpha,
        )

    def text(self, xy, s, path=None, **kwargs):
        kwargs.setdefault("fontsize", self.fontsize)
        x, y = xy[0] + self.dx, xy[1] + self.dy
        self.ax.text(x, y, s, alpha=self.alpha(path), zorder=6, **kwargs)


def _column(
    name: str, values: np.ndarray, signed: bool, decimals: int = 2
) -> str:
    """A gate's values as a small column: its name in mathtext (``f_t`` is drawn as
    $f_t$), then one line per unit. Matplotlib reads each line on its own, so the name is
    set as maths and the numbers stay in the column's (monospace) font."""
    fmt = f"{{:+.{decimals}f}}" if signed else f"{{:.{decimals}f}}"
    rounded = np.round(values, decimals) + 0.0  # + 0.0 turns -0.0 into 0.0
    return "\n".join([f"${name}$", *(fmt.format(v) for v in rounded)])


def _draw_one_cell(
    painter: _Painter, s: dict[str, np.ndarray], show_values: bool
) -> None:
    """The cell's inside, its box and its entry and exit stubs, at the painter's offset."""
    ax, dx, dy = painter.ax, painter.dx, painter.dy
    ax.add_patch(
        FancyBboxPatch(
            (0.9 + dx, -0.45 + dy),
            9.2,
            7.2,
            boxstyle="round,pad=0.02,rounding_size=0.4",
            fc="#f4f4f4",
            ec="#999999",
            lw=1.2,
            zorder=0,
        )
    )
    c_col, h_col = COLORS["cell"], COLORS["hidden"]
    # The conveyor belt: c_{t-1} -> x f -> + -> c_t.
    painter.line([(_X_IN, _Y_CELL), (_X_F - _R, _Y_CELL)], "c_prev", c_col)
    painter.line([(_X_F + _R, _Y_CELL), (_X_G - _R, _Y_CELL)], "fc", c_col)
    painter.line([(_X_G + _R, _Y_CELL), (_X_OUT, _Y_CELL)], "c", c_col)
    # The input bus: h_{t-1} from the left, x_t from below, then up into every gate.
    painter.line([(_X_IN, _Y_BUS), (_X_JOIN, _Y_BUS)], "h_prev", h_col)
    painter.line([(_X_JOIN, -1.3), (_X_JOIN, _Y_BUS)], "x", _INPUT_GREY)
    bus_alpha = painter.alpha("x")
    bus = {"color": _GREY, "lw": 1.6, "alpha": bus_alpha}
    ax.plot([_X_JOIN + dx, _X_O + dx], [_Y_BUS + dy] * 2, **bus)
    for x in (_X_F, _X_I, _X_G, _X_O):
        ax.plot([x + dx] * 2, [_Y_BUS + dy, _Y_GATE - 0.33 + dy], **bus)
    # The gates and the candidate, and their outputs.
    top = _Y_GATE + 0.33
    painter.line([(_X_F, top), (_X_F, _Y_CELL - _R)], "f", COLORS["forget"])
    painter.line(
        [(_X_I, top), (_X_I, _Y_IG), (_X_G - _R, _Y_IG)], "i", COLORS["input"]
    )
    painter.line([(_X_G, top), (_X_G, _Y_IG - _R)], "g", COLORS["candidate"])
    painter.line(
        [(_X_G, _Y_IG + _R), (_X_G, _Y_CELL - _R)], "ig", COLORS["candidate"]
    )
    painter.line(
        [(_X_O, top), (_X_O, _Y_XO), (_X_T - _R, _Y_XO)], "o", COLORS["output"]
    )
    # The output: c_t -> tanh -> x o -> h_t.
    painter.line([(_X_T, _Y_CELL), (_X_T, _Y_TANH + 0.33)], "c", c_col)
    painter.line([(_X_T, _Y_TANH - 0.33), (_X_T, _Y_XO + _R)], "tanh_c", c_col)
    painter.line([(_X_T, _Y_XO - _R), (_X_T, 0.0), (_X_OUT, 0.0)], "h", h_col)
    painter.box((_X_F, _Y_GATE), "σ", COLORS["forget"], "f")
    painter.box((_X_I, _Y_GATE), "σ", COLORS["input"], "i")
    painter.box((_X_G, _Y_GATE), "tanh", COLORS["candidate"], "g", width=1.3)
    painter.box((_X_O, _Y_GATE), "σ", COLORS["output"], "o")
    painter.box((_X_T, _Y_TANH), "tanh", COLORS["cell"], "tanh_c", width=1.3)
    painter.valve((_X_F, _Y_CELL), "×", "fc")
    painter.valve((_X_G, _Y_IG), "×", "ig")
    painter.valve((_X_G, _Y_CELL), "+", "c")
    painter.valve((_X_T, _Y_XO), "×", "h")
    if not show_values:
        return
    # (value, its column's name, where, alignment, colour): one column of numbers each.
    labels = [
        ("f", "f_t", (_X_F - 0.2, 3.3), "right", "center", COLORS["forget"]),
        ("i", "i_t", (_X_I - 0.2, 2.75), "right", "center", COLORS["input"]),
        ("g", "g_t", (_X_G + 0.2, 2.6), "left", "center", COLORS["candidate"]),
        ("o", "o_t", (_X_O + 0.15, 2.8), "left", "bottom", COLORS["output"]),
        ("c_prev", "c_{t-1}", (1.05, 6.6), "left", "top", COLORS["cell"]),
        ("c", "c_t", (9.95, 6.6), "right", "top", COLORS["cell"]),
        ("h", "h_t", (9.95, 0.15), "right", "bottom", COLORS["hidden"]),
    ]
    for key, name, xy, ha, va, color in labels:
        signed = key not in ("f", "i", "o")
        painter.text(
            xy,
            _column(name, s[key], signed),
            key,
            ha=ha,
            va=va,
            color=color,
            family="monospace",
            fontsize=painter.fontsize - 1,
            linespacing=1.1,
        )


def _new_axes(ax: Axes | None, figsize: tuple[float, float]) -> Axes:
    if ax is None:
        _, ax = plt.subplots(figsize=figsize, layout="constrained")
    ax.set_aspect("equal")
    ax.axis("off")
    return ax


def _check_highlight(
    highlight: Iterable[str] | str | None,
) -> tuple[str, ...] | None:
    if highlight is None:
        return None
    if isinstance(highlight, str):
        parts: tuple[Any, ...] = (highlight,)
    elif isinstance(highlight, Iterable) and not isinstance(
        highlight, Mapping | bytes
    ):
        parts = tuple(highlight)
    else:
        raise checks.ArgumentTypeError(
            f"highlight must be a part's name or a list of them, among {tuple(PARTS)}, "
            f"got {checks.describe(highlight)}"
        )
    unknown = [p for p in parts if not isinstance(p, str) or p not in PARTS]
    if unknown or not parts:
        raise ValueError(
            f"highlight must name parts among {tuple(PARTS)}, got {highlight!r}"
        )
    return parts


def draw_cell(
    step: Mapping[str, object],
    *,
    ax: Axes | None = None,
    title: str | None = None,
    unit_names: Sequence[str] | None = None,
    show_values: bool = True,
    highlight: Iterable[str] | str | None = None,
) -> Axes:
    """The looped view: one cell, its states fed back to itself through a one-word delay.

    Every line is as wide as :func:`flow_amounts` says for its path (dotted: nothing flows).
    ``show_values`` prints each gate's and state's values, one line per unit (named in a
    footnote by ``unit_names``). ``highlight`` names parts of :data:`PARTS` to emphasise;
    the rest is faded. Returns the Axes.
    """
    s = check_step(step)
    parts = _check_highlight(highlight)
    _check_figure_arguments(ax, title)
    checks.boolean("show_values", show_values)
    if unit_names is not None:
        _check_names("unit_names", unit_names, count=s["c"].shape[0])
    amounts = flow_amounts(s)
    full = max(1.0, max(amounts.values()))
    ax = _new_axes(ax, (8.0, 5.4))
    painter = _Painter(ax, 0.0, amounts, full, parts, fontsize=10)
    _draw_one_cell(painter, s, show_values)
    c_col, h_col = COLORS["cell"], COLORS["hidden"]
    # The recurrent loops: out on the right, back over the top, in on the left.
    y_c, y_h, x_c, x_h = 7.45, 8.25, 11.3, 12.0
    painter.line(
        [(_X_OUT, _Y_CELL), (x_c, _Y_CELL), (x_c, y_c), (4.6, y_c)], "c", c_col
    )
    painter.line(
        [(3.4, y_c), (-1.3, y_c), (-1.3, _Y_CELL), (_X_IN, _Y_CELL)],
        "c_prev",
        c_col,
        arrow=True,
    )
    painter.line(
        [(_X_OUT, 0.0), (x_h, 0.0), (x_h, y_h), (4.6, y_h)], "h", h_col
    )
    painter.line(
        [(3.4, y_h), (-2.0, y_h), (-2.0, _Y_BUS), (_X_IN, _Y_BUS)],
        "h_prev",
        h_col,
        arrow=True,
    )
    for y, name in ((y_c, "c"), (y_h, "h")):
        ax.add_patch(
            Rectangle(
                (3.4, y - 0.3),
                1.2,
                0.6,
                fc="white",
                ec="black",
                lw=1.0,
                zorder=4,
            )
        )
        ax.text(4.0, y, "delay", ha="center", va="center", fontsize=9, zorder=5)
        ax.text(
            4.8, y + 0.12, f"${name}_t$", ha="left", va="bottom", fontsize=10
        )
        ax.text(
            3.2,
            y + 0.12,
            f"${name}_{{t-1}}$",
            ha="right",
            va="bottom",
            fontsize=10,
        )
    painter.line([(x_h, 0.0), (13.0, 0.0)], "h", h_col, arrow=True)
    ax.text(13.1, 0.0, "$h_t$\nout", ha="left", va="center", fontsize=10)
    ax.text(_X_JOIN, -1.45, "$x_t$", ha="center", va="top", fontsize=11)
    if show_values and unit_names is not None:
        ax.text(
            13.9,
            -1.95,
            "values per unit, top to bottom: " + ", ".join(unit_names),
            ha="right",
            va="bottom",
            fontsize=9,
            color=_GREY,
        )
    ax.set_xlim(-2.6, 14.0)
    ax.set_ylim(-2.0, 8.8)
    if title:
        ax.set_title(title)
    return ax


def _checked_steps(
    steps: Sequence[Mapping[str, object]], words: Sequence[str], first_t: int
) -> list[dict[str, np.ndarray]]:
    """Consecutive steps of one cell and the words read at them, checked (see the
    module docstring): as many words as steps, at least one, all with the same H."""
    checks.sequence("steps", steps, empty=True)
    _check_names("words", words, empty=True)
    if len(steps) == 0 or len(steps) != len(words):
        raise ValueError(
            f"steps and words must be non-empty and of equal length, got {len(steps)} steps "
            f"and {len(words)} words"
        )
    checks.integer("first_t", first_t, minimum=1)
    checked = [
        check_step(step, name=f"steps[{k}]") for k, step in enumerate(steps)
    ]
    H = checked[0]["c"].shape[0]
    for k, s in enumerate(checked):
        if s["c"].shape[0] != H:
            raise ValueError(
                f"steps must all come from one cell, but steps[{k}] has {s['c'].shape[0]} "
                f"units and steps[0] has {H}"
            )
    return checked


#: Height of one row of cells in the unrolled view, in data units.
_ROW = 10.6


def draw_unrolled(
    steps: Sequence[Mapping[str, object]],
    words: Sequence[str],
    *,
    first_t: int = 1,
    per_row: int = 2,
    ax: Axes | None = None,
    title: str | None = None,
) -> Axes:
    """The unrolled view: one copy of the cell per word, c_t and h_t passed to the right.

    ``steps`` are consecutive steps (see the module docstring) and ``words`` the words read
    at them. The cell state runs across the top like a conveyor belt, as wide as the mean
    |c_t| it carries from one word to the next. ``first_t`` is the time step of the first
    word, used in the labels. At most ``per_row`` copies (1 to 3) are drawn side by side;
    more go on the next row, which starts with the states the row above ended with, so a
    new figure stays at most :data:`MAX_WIDTH` inches wide. Returns the Axes.
    """
    checked = _checked_steps(steps, words, first_t)
    checks.integer("per_row", per_row, minimum=1, maximum=3)
    _check_figure_arguments(ax, title)
    all_amounts = [flow_amounts(s) for s in checked]
    full = max(1.0, *(max(a.values()) for a in all_amounts))
    n = len(checked)
    cols, rows = min(n, per_row), -(-n // per_row)
    width = (cols - 1) * _SPACING + _X_OUT - _X_IN + 2.6  # data units
    height = rows * _ROW
    scale = min(0.4, MAX_WIDTH / width)  # inches per data unit
    ax = _new_axes(ax, (scale * width, scale * height + 0.4))
    for k, (s, amounts, word) in enumerate(
        zip(checked, all_amounts, words, strict=True)
    ):
        row, col = divmod(k, per_row)
        dx, dy = col * _SPACING, -row * _ROW
        painter = _Painter(ax, dx, amounts, full, None, fontsize=10, dy=dy)
        _draw_one_cell(painter, s, show_values=False)
        painter.text(
            (_X_JOIN, -1.45),
            word,
            ha="center",
            va="top",
            fontsize=13,
            fontweight="bold",
        )
        painter.text(
            (5.5, 6.9),
            f"t = {first_t + k}",
            ha="center",
            va="bottom",
            fontsize=10,
            color=_GREY,
        )
        t = first_t + k
        if col == 0:  # the states this row starts from
            _state_labels(ax, _X_IN - 0.1 + dx, dy, t - 1, side="left")
        if k + 1 < n and col + 1 < per_row:  # hand c_t and h_t to the next copy
            x_next = _SPACING + _X_IN
            painter.line(
                [(_X_OUT, _Y_CELL), (x_next, _Y_CELL)], "c", COLORS["cell"]
            )
            x_mid = (_X_OUT + x_next) / 2
            painter.line(
                [
                    (_X_OUT, 0.0),
                    (x_mid, 0.0),
                    (x_mid, _Y_BUS),
                    (x_next, _Y_BUS),
                ],
                "h",
                COLORS["hidden"],
            )
        else:  # the end of a row: c_t and h_t leave to the right
            _state_labels(ax, _X_OUT + 0.1 + dx, dy, t, side="right")
    ax.set_xlim(_X_IN - 1.3, _X_IN - 1.3 + width)
    ax.set_ylim(-2.6 - (rows - 1) * _ROW, 7.6)
    if title:
        ax.set_title(title)
    return ax


def _value(v: float) -> str:
    """One unit's value as the figures print it: sign and one decimal (never -0.0)."""
    return f"{round(float(v), 1) + 0.0:+.1f}"


def draw_looped_and_unrolled(
    steps: Sequence[Mapping[str, object]],
    words: Sequence[str],
    *,
    first_t: int = 1,
    unit_names: Sequence[str] | None = None,
    title: str | None = None,
) -> Figure:
    """The looped and the unrolled view of one cell, side by side, from the same steps.

    Left, the looped view: one cell, whose loop carries c_t and h_t back to its own input
    through a one-step delay, and below it what went in and came out at every step: one
    column per step t, with the word x_t read, and c_t and h_t (one value per unit, top to
    bottom; ``unit_names`` names them). Right, the unrolled view: the same cell once per
    step, its loop cut open, so copy t reads x_t, c_{t-1} and h_{t-1} and hands c_t and h_t
    to copy t + 1; each copy shows the c_t it holds and, above it, the h_t it outputs.
    Both views print their values with one function from the same steps (``steps`` and
    ``words`` as for :func:`draw_unrolled`, at most 5 of them), so they agree by
    construction; each value's Text has the gid ``"looped:c:t:unit"`` or
    ``"unrolled:c:t:unit"`` (``h`` likewise). Returns the Figure.
    """
    checked = _checked_steps(steps, words, first_t)
    H = checked[0]["c"].shape[0]
    if unit_names is not None:
        _check_names("unit_names", unit_names, count=H)
    checks.optional(checks.string, "title", title, empty=True)
    T, line = (
        len(checked),
        0.17,
    )  # steps; height of one line of 9 pt text, inches
    # The looped view's table: a column of row names, then one column per step.
    cw = max(0.5, 0.075 * max(len(w) for w in words) + 0.12)
    table_w = 0.45 + T * cw
    rows_h = (2 + 2 * H) * line + 0.2
    bh = ((H + 1) * line + 0.14) / 2  # half the height of a cell's box
    y_box = (
        rows_h + 0.75 + bh
    )  # the cells' centre line, inches above the bottom
    spacing = max(0.95, cw + 0.3)  # between the copies of the unrolled view
    x0 = table_w + 0.6  # where the unrolled view starts
    width = x0 + 0.5 + T * spacing + 0.6
    top = y_box + bh + 0.45 + (H + 1) * line
    height = top + (0.35 if title else 0.05)
    if width > MAX_WIDTH + 0.4:
        raise ValueError(
            f"steps and words: {T} steps need a figure {width:.1f} inches wide, more than "
            f"the book's {MAX_WIDTH:.0f}; draw fewer steps (at most about 5)"
        )
    fig = plt.figure(figsize=(width, height), layout="none")
    ax = fig.add_axes((0, 0, 1, 1))  # one data unit is one inch
    ax.set_xlim(0, width)
    ax.set_ylim(0, height)
    ax.set_aspect("equal")
    ax.axis("off")
    arrow = {"arrowstyle": "-|>", "lw": 1.4, "shrinkA": 0, "shrinkB": 0}
    c_col, h_col = COLORS["cell"], COLORS["hidden"]
    mono = {
        "family": "monospace",
        "fontsize": 9,
        "ha": "center",
        "va": "center",
    }

    def box(xc: float) -> None:
        ax.add_patch(
            FancyBboxPatch(
                (xc - 0.3, y_box - bh),
                0.6,
                2 * bh,
                boxstyle="round,pad=0.02",
                fc="#f3f3f3",
                ec=_GREY,
                lw=1.2,
                zorder=3,
            )
        )

    def arrow_to(
        xy: tuple[float, float], start: tuple[float, float], color: str
    ) -> None:
        ax.annotate(
            "",
            xy=xy,
            xytext=start,
            arrowprops={**arrow, "color": color},
            zorder=5,
        )

    def inputs_and_output(
        xc: float, word: str, h_label: str, word_size: float
    ) -> None:
        arrow_to((xc, y_box - bh), (xc, y_box - bh - 0.4), _INPUT_GREY)
        ax.text(
            xc,
            y_box - bh - 0.43,
            word,
            ha="center",
            va="top",
            fontsize=word_size,
            fontweight="bold" if word_size < 10 else "normal",
        )
        arrow_to((xc, y_box + bh + 0.4), (xc, y_box + bh), h_col)
        ax.text(
            xc,
            y_box + bh + 0.42 + H * line,
            h_label,
            ha="center",
            va="bottom",
            fontsize=10,
            color=h_col,
        )

    # Left: the looped cell, its input, its output, and the loop with its delay.
    xl = table_w / 2 + 0.2
    box(xl)
    ax.text(xl, y_box, "cell", ha="center", va="center", fontsize=10, zorder=4)
    arrow_to((xl, y_box - bh), (xl, y_box - bh - 0.4), _INPUT_GREY)
    ax.text(xl, y_box - bh - 0.43, "$x_t$", ha="center", va="top", fontsize=10)
    y_loop, x_r, x_l = y_box + bh + 0.2, xl + 0.8, xl - 0.8
    ax.plot(
        [xl + 0.3, x_r, x_r, x_l, x_l],
        [y_box, y_box, y_loop, y_loop, y_box],
        color=_GREY,
        lw=1.6,
        zorder=2,
    )
    arrow_to((xl - 0.3, y_box), (x_l, y_box), _GREY)
    ax.add_patch(
        Rectangle(
            (xl - 0.62, y_loop - 0.11),
            0.44,
            0.22,
            fc="white",
            ec="black",
            lw=1.0,
            zorder=4,
        )
    )
    ax.text(
        xl - 0.4,
        y_loop,
        "delay",
        ha="center",
        va="center",
        fontsize=9,
        zorder=5,
    )
    ax.text(
        x_r + 0.06,
        y_box + 0.2,
        "$c_t,$\n$h_t$",
        ha="left",
        va="center",
        fontsize=10,
    )
    ax.text(
        x_l - 0.06,
        y_box + 0.2,
        "$c_{t-1},$\n$h_{t-1}$",
        ha="right",
        va="center",
        fontsize=10,
    )
    ax.plot(
        [xl, xl], [y_loop - 0.06, y_loop + 0.06], color="white", lw=4, zorder=3
    )
    arrow_to((xl, y_box + bh + 0.45), (xl, y_box + bh), h_col)
    ax.text(
        xl, y_box + bh + 0.47, "$h_t$", ha="center", va="bottom", fontsize=10
    )
    # Left, below: the table of every step, one column per t.
    y = rows_h

    def row_name(y_row: float, name: str, color: str = "black") -> None:
        ax.text(
            0.4, y_row, name, ha="right", va="center", fontsize=10, color=color
        )

    y_c, y_h = (
        y - 2 * line - 0.1,
        y - (2 + H) * line - 0.2,
    )  # tops of the c and h rows
    row_name(y - line / 2, "$t$")
    row_name(y - 1.5 * line, "$x_t$")
    row_name(y_c - 0.5 * line, "$c_t$", c_col)
    row_name(y_h - 0.5 * line, "$h_t$", h_col)
    ax.plot([0.45, table_w], [y - 2 * line - 0.05] * 2, color="#cccccc", lw=0.8)
    for k, (s, word) in enumerate(zip(checked, words, strict=True)):
        xc, t = 0.45 + (k + 0.5) * cw, first_t + k
        ax.text(xc, y - line / 2, str(t), color=_GREY, **mono)
        ax.text(
            xc,
            y - 1.5 * line,
            word,
            ha="center",
            va="center",
            fontsize=9,
            fontweight="bold",
        )
        for u in range(H):
            ax.text(
                xc,
                y_c - (u + 0.5) * line,
                _value(s["c"][u]),
                color=c_col,
                gid=f"looped:c:{t}:{u}",
                **mono,
            )
            ax.text(
                xc,
                y_h - (u + 0.5) * line,
                _value(s["h"][u]),
                color=h_col,
                gid=f"looped:h:{t}:{u}",
                **mono,
            )
    # Between the views: they are the same network.
    ax.text(table_w + 0.25, y_box, "=", ha="center", va="center", fontsize=20)
    # Right: the same cell once per step, the loop cut open between the copies.
    for k, (s, word) in enumerate(zip(checked, words, strict=True)):
        xc, t = x0 + 0.5 + (k + 0.5) * spacing, first_t + k
        box(xc)
        inputs_and_output(xc, word, f"$h_{{{t}}}$", 9.5)
        ax.text(
            xc,
            y_box + bh - 0.05,
            f"$c_{{{t}}}$",
            ha="center",
            va="top",
            fontsize=10,
            color=c_col,
            zorder=4,
        )
        for u in range(H):
            ax.text(
                xc,
                y_box + bh - 0.12 - (u + 1.5) * line,
                _value(s["c"][u]),
                color=c_col,
                gid=f"unrolled:c:{t}:{u}",
                zorder=4,
                **mono,
            )
            ax.text(
                xc,
                y_box + bh + 0.42 + (H - u - 0.5) * line,
                _value(s["h"][u]),
                color=h_col,
                gid=f"unrolled:h:{t}:{u}",
                **mono,
            )
        x_next = xc + spacing - 0.3 if k + 1 < T else xc + 0.75
        arrow_to((x_next, y_box), (xc + 0.3, y_box), _GREY)
    t_first, t_last = first_t - 1, first_t + T - 1
    arrow_to((x0 + 0.5 + 0.5 * spacing - 0.3, y_box), (x0 + 0.1, y_box), _GREY)
    ax.text(
        x0 + 0.1,
        y_box + 0.06,
        f"$c_{{{t_first}}},$\n$h_{{{t_first}}}$",
        ha="left",
        va="bottom",
        fontsize=10,
    )
    x_end = x0 + 0.5 + (T - 0.5) * spacing + 0.75
    ax.text(
        x_end - 0.4,
        y_box + 0.06,
        f"$c_{{{t_last}}},$\n$h_{{{t_last}}}$",
        ha="left",
        va="bottom",
        fontsize=10,
    )
    if unit_names is not None:
        ax.text(
            width - 0.05,
            0.05,
            "values per unit, top to bottom: " + ", ".join(unit_names),
            ha="right",
            va="bottom",
            fontsize=9,
            color=_GREY,
        )
    if title:
        ax.text(
            width / 2, height - 0.05, title, ha="center", va="top", fontsize=12
        )
    return fig


def _state_labels(ax: Axes, x: float, dy: float, t: int, side: str) -> None:
    """$c_t$ at the belt and $h_t$ at the hidden path, left or right of ``x``."""
    ha = "right" if side == "left" else "left"
    y_h = _Y_BUS if side == "left" else 0.0
    ax.text(x, _Y_CELL + dy, f"$c_{{{t}}}$", ha=ha, va="center", fontsize=11)
    ax.text(x, y_h + dy, f"$h_{{{t}}}$", ha=ha, va="center", fontsize=11)


def _check_per_word(
    values: Mapping[str, object], words: Sequence[str], what: str = "values"
) -> dict[str, np.ndarray]:
    """Finite real arrays of shape (T, H), one per name, with T = len(words) and one H for
    all; ``what`` is the argument's name. Returned as float64."""
    checks.mapping(what, values)
    _check_names("words", words)
    if len(values) == 0:
        raise ValueError(f"{what} must map at least one name to a (T, H) array")
    arrays = {}
    for name, v in values.items():
        checks.string(f"a key of {what}", name)
        a = _real_array(f"{what}[{name!r}]", v)
        checks.array(f"{what}[{name!r}]", a, nonempty=False, finite=True)
        arrays[name] = a.astype(np.float64)
    shapes = {name: a.shape for name, a in arrays.items()}
    first = next(iter(arrays.values()))
    if any(
        a.ndim != 2 or a.shape != first.shape for a in arrays.values()
    ) or first.shape[0] != len(words):
        raise ValueError(
            f"{what} must all have shape (T, H) with T = {len(words)} words, got {shapes}"
        )
    if first.shape[1] == 0:
        raise ValueError(
            f"{what} must have at least one unit (H >= 1), got {shapes}"
        )
    return arrays


def _word_axis(ax: Axes, words: Sequence[str]) -> None:
    ax.set_xticks(
        range(len(words)),
        words,
        rotation=45,
        ha="right",
        rotation_mode="anchor",
    )


def plot_gates_per_word(
    gates: Mapping[str, object],
    words: Sequence[str],
    unit_names: Sequence[str],
    *,
    title: str | None = None,
):
    """One heatmap per gate (rows: units, columns: words), coloured from 0 (white) to 1.

    ``gates`` maps a gate's name ("forget", "input", "output", a key of ``COLORS``) to its
    values, shape (T, H) with T = ``len(words)`` and H = ``len(unit_names)``. Every cell
    shows its value rounded to one decimal. Returns the Figure.
    """
    from matplotlib.colors import LinearSegmentedColormap

    arrays = _check_per_word(gates, words, "gates")
    T, H = next(iter(arrays.values())).shape
    _check_names("unit_names", unit_names, count=H)
    unknown = [name for name in arrays if name not in COLORS]
    if unknown:
        raise ValueError(
            f"gates: gate names must be keys of COLORS {tuple(COLORS)}, got {unknown}"
        )
    checks.optional(checks.string, "title", title, empty=True)
    fig, axes = plt.subplots(
        len(arrays),
        1,
        figsize=(
            min(MAX_WIDTH, max(7.0, 0.5 * T + 1.5)),
            0.45 * H * len(arrays) + 1.6,
        ),
        sharex=True,
        layout="constrained",
    )
    axes = np.atleast_1d(axes)
    for ax, (name, a) in zip(axes, arrays.items(), strict=True):
        cmap = LinearSegmentedColormap.from_list(name, ["white", COLORS[name]])
        ax.imshow(a.T, cmap=cmap, vmin=0.0, vmax=1.0, aspect="auto")
        for t in range(T):
            for k in range(H):
                ax.text(
                    t,
                    k,
                    f"{a[t, k]:.1f}",
                    ha="center",
                    va="center",
                    fontsize=10,
                    color="white" if a[t, k] > 0.6 else "black",
                )
        ax.set_yticks(range(H), unit_names)
        ax.set_ylabel(f"{name}\ngate", rotation=0, ha="right", va="center")
        ax.grid(False)
    _word_axis(axes[-1], words)
    axes[-1].set_xlabel("word read at this step")
    if title:
        axes[0].set_title(title)
    return fig


def plot_states_per_word(
    states: Mapping[str, object],
    words: Sequence[str],
    unit_names: Sequence[str],
    *,
    units: Sequence[str] | None = None,
    title: str | None = None,
):
    """One panel per state (e.g. ``{"c_t": c, "h_t": h}``), one line per unit, over the words.

    Each value of ``states`` has shape (T, H); ``units`` picks which of ``unit_names`` to
    draw (default: all). A value is drawn flat across the word at which it was computed,
    so a kept memory is a flat line. Returns the Figure.
    """
    arrays = _check_per_word(states, words, "states")
    T, H = next(iter(arrays.values())).shape
    _check_names("unit_names", unit_names, count=H)
    if units is not None:
        _check_names("units", units)
    chosen = list(unit_names) if units is None else list(units)
    unknown = [u for u in chosen if u not in unit_names]
    if unknown or not chosen:
        raise ValueError(f"units must be among {list(unit_names)}, got {units}")
    checks.optional(checks.string, "title", title, empty=True)
    unit_colors = [
        COLORS[k] for k in ("cell", "rnn", "gru", "forget", "input", "output")
    ]
    # Units often share a value: later units are drawn thinner and dashed, on top.
    unit_styles = [
        ("-", 3.0),
        ((0, (4, 2)), 1.8),
        ("-", 2.2),
        ((0, (1, 1.5)), 1.8),
    ]
    fig, axes = plt.subplots(
        len(arrays),
        1,
        figsize=(
            min(MAX_WIDTH, max(7.0, 0.5 * T + 1.5)),
            1.8 * len(arrays) + 0.9,
        ),
        sharex=True,
        layout="constrained",
    )
    axes = np.atleast_1d(axes)
    for ax, (name, a) in zip(axes, arrays.items(), strict=True):
        for unit in chosen:
            k = list(unit_names).index(unit)
            ls, lw = unit_styles[k % len(unit_styles)]
            ax.step(
                range(T),
                a[:, k],
                where="mid",
                ls=ls,
                lw=lw,
                label=unit,
                color=unit_colors[k % len(unit_colors)],
            )
        ax.axhline(0.0, color="black", lw=0.8)
        ax.set_ylim(-1.15, 1.15)
        ax.set_ylabel(f"${name}$ (unit value)" if "_" in name else name)
    axes[0].legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
    _word_axis(axes[-1], words)
    axes[-1].set_xlabel("word read at this step")
    if title:
        axes[0].set_title(title)
    return fig


def draw_stack(
    T: int,
    num_layers: int,
    *,
    values: np.ndarray | None = None,
    batch_first: bool = True,
    ax: Axes | None = None,
    title: str | None = None,
) -> Axes:
    """Draw a stacked LSTM unrolled in time: a grid of cells, layers up and time to the right.

    The labels count from 1, as the maths does: time steps t = 1..T, layers l = 1..L with
    L = ``num_layers``. Cell (t, l) reads h_{t-1}^(l) and c_{t-1}^(l) of its own layer from
    the left and h_t^(l-1) of the layer below (x_t for l = 1). Each label also names the
    array that holds it, where code counts from 0: x_t is ``x[:, t-1]``, h_t^(L) is
    ``output[:, t-1]`` (``x[t-1]``, ``output[t-1]`` if not ``batch_first``), the initial
    states are ``h0[l-1], c0[l-1]`` and the final ones ``h_n[l-1], c_n[l-1]``.
    ``values``, if given, is a (num_layers, T) array written into the cells (for example
    the largest difference from torch.nn.LSTM); otherwise a cell shows its t and l.
    """
    T = checks.positive_int("T", T)
    num_layers = checks.positive_int("num_layers", num_layers)
    if values is not None:
        values = _real_array("values", values)
        if values.shape != (num_layers, T):
            raise ValueError(
                f"values must have shape {(num_layers, T)}, got {values.shape}"
            )
        checks.array("values", values, finite=True)
    checks.boolean("batch_first", batch_first)
    _check_figure_arguments(ax, title)
    L = num_layers
    dx, dy = 1.45, 1.5  # distance between cells: time, layers
    left, right = -2.75, (T - 1) * dx + 2.85  # room for the state labels
    width = right - left
    scale = min(0.75, MAX_WIDTH / width)  # inches per data unit
    top = (L - 1) * dy + 1.45
    ax = _new_axes(ax, (scale * width, scale * (top + 1.55) + 0.4))
    arrow = {"arrowstyle": "-|>", "lw": 1.4, "shrinkA": 0, "shrinkB": 0}
    code = {"family": "monospace", "fontsize": 9, "color": _GREY}
    step = (lambda t: f"[:, {t}]") if batch_first else (lambda t: f"[{t}]")
    for k in range(L):
        y = k * dy
        for t in range(T):
            x = t * dx
            ax.add_patch(
                FancyBboxPatch(
                    (x - 0.45, y - 0.34),
                    0.9,
                    0.68,
                    boxstyle="round,pad=0.02",
                    fc="#f3f3f3",
                    ec=_GREY,
                    lw=1.2,
                )
            )
            label = f"$t={t + 1}$\n$\\ell={k + 1}$"
            if values is not None:
                label = f"{values[k, t]:.0e}"
            ax.text(x, y, label, ha="center", va="center", fontsize=9)
            ax.annotate(
                "",
                xy=(x - 0.45, y),
                xytext=(x - 1.0, y),
                arrowprops={**arrow, "color": COLORS["cell"]},
            )
            below = COLORS["hidden"] if k > 0 else _INPUT_GREY
            ax.annotate(
                "",
                xy=(x, y - 0.34),
                xytext=(x, y - dy + 0.34 if k > 0 else y - 0.95),
                arrowprops={**arrow, "color": below},
            )
        ax.text(
            -1.05,
            y + 0.05,
            f"$h_0^{{({k + 1})}}, c_0^{{({k + 1})}}$",
            ha="right",
            va="bottom",
            fontsize=10,
        )
        ax.text(
            -1.05, y - 0.05, f"h0[{k}], c0[{k}]", ha="right", va="top", **code
        )
        x_end = (T - 1) * dx
        ax.annotate(
            "",
            xy=(x_end + 1.0, y),
            xytext=(x_end + 0.45, y),
            arrowprops={**arrow, "color": COLORS["cell"]},
        )
        ax.text(
            x_end + 1.05,
            y + 0.05,
            f"$h_{{{T}}}^{{({k + 1})}}, c_{{{T}}}^{{({k + 1})}}$",
            ha="left",
            va="bottom",
            fontsize=10,
        )
        ax.text(
            x_end + 1.05,
            y - 0.05,
            f"h_n[{k}], c_n[{k}]",
            ha="left",
            va="top",
            **code,
        )
    y_top = (L - 1) * dy
    for t in range(T):
        x = t * dx
        ax.text(x, -1.0, f"$x_{{{t + 1}}}$", ha="center", va="top", fontsize=10)
        ax.text(x, -1.3, f"x{step(t)}", ha="center", va="top", **code)
        ax.annotate(
            "",
            xy=(x, y_top + 0.85),
            xytext=(x, y_top + 0.34),
            arrowprops={**arrow, "color": COLORS["hidden"]},
        )
        ax.text(
            x,
            y_top + 1.15,
            f"$h_{{{t + 1}}}^{{({L})}}$",
            ha="center",
            va="bottom",
            fontsize=10,
        )
        ax.text(
            x, y_top + 0.9, f"output{step(t)}", ha="center", va="bottom", **code
        )
    ax.set_xlim(left, right)
    ax.set_ylim(-1.55, top)
    ax.set_aspect("equal")
    ax.axis("off")
    if title:
        ax.set_title(title)
    return ax


# ---------------------------------------------------------------------------------------------
# Checks
# ---------------------------------------------------------------------------------------------


def _real_array(name: str, value: Any) -> np.ndarray:
    """A NumPy array of real numbers (int or float; not bool, complex, strings or objects)."""
    checks.array(name, value, nonempty=False)
    if value.dtype.kind not in "iuf":
        raise checks.ArgumentTypeError(
            f"{name} must hold real numbers (an int or float array), got dtype {value.dtype}"
        )
    return value


def _check_width(amount: Any, full: Any) -> np.ndarray:
    """``line_width``'s arguments: amount a finite number >= 0 or an array of them, full a
    finite number > 0. Returns amount as a float64 array (0-d for a number)."""
    checks.positive_number("full", full)
    if isinstance(amount, np.ndarray):
        a = _real_array("amount", amount).astype(np.float64)
        if not np.all(np.isfinite(a)) or np.any(a < 0):
            raise ValueError(
                f"amount must hold finite numbers >= 0, got {amount!r}"
            )
        return a
    if isinstance(amount, list | tuple) or checks.is_tensor(amount):
        checks.array("amount", amount)  # refused, with the hint to convert it
    if not isinstance(amount, numbers.Real) or isinstance(
        amount, bool | np.bool_
    ):
        raise checks.ArgumentTypeError(
            f"amount must be a finite number >= 0 or a NumPy array of them, "
            f"got {checks.describe(amount)}"
        )
    return np.asarray(
        checks.number("amount", amount, minimum=0.0), dtype=np.float64
    )


def _check_names(
    name: str, value: Any, *, count: int | None = None, empty: bool = False
) -> Sequence[str]:
    """A list or tuple of strings (words, unit names); exactly ``count`` of them if given."""
    checks.sequence(name, value, empty=empty)
    for k, item in enumerate(value):
        checks.string(f"{name}[{k}]", item, empty=True)
    if count is not None and len(value) != count:
        raise ValueError(
            f"{name} must name the {count} units, got {list(value)}"
        )
    return value


def _check_figure_arguments(ax: Any, title: Any) -> None:
    checks.optional(
        checks.instance, "ax", ax, kind=Axes, expected="a matplotlib Axes"
    )
    checks.optional(checks.string, "title", title, empty=True)
