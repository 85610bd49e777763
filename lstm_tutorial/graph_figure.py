"""The computational graph that backpropagation through time walks backwards.

Part II, chapter "Backpropagation through time". An LSTM layer unrolled over its last
few steps is a graph of quantities (nodes) and of the operations that make one from
another (arrows): at every step t, x_t and h_{t-1} (with the shared weights W, U, b) give
the pre-activations z_t; z_t gives the gates i_t, f_t, o_t and the candidate g_t;
c_{t-1}, f_t, i_t and g_t give c_t; c_t and o_t give h_t; h_t gives the step's loss
L_t, and the losses add up to the loss L. :func:`graph_edges` lists the arrows of that
graph, :func:`draw_bptt_graph` draws it: the forward pass, and below it the backward
pass, the same arrows reversed, each carrying a gradient back to where it came from.

The steps are the last ones of the sequence, T - steps + 1 ... T, so the backward walk
visibly starts at the loss and at the last step.

Checks. Both functions check their arguments before any work (with
:mod:`lstm_tutorial.checks`; the error names the argument): ``steps`` an integer from 1
to :data:`MAX_STEPS`, ``backward`` True or False.
"""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Circle, Rectangle

from lstm_tutorial import checks
from lstm_tutorial.plotting import COLORS

#: The most steps a drawing holds (more would not fit a page's width legibly).
MAX_STEPS = 3
#: What each kind of node stands for, in the order of a step's forward pass.
STEP_NODES = ("x", "z", "i", "f", "g", "o", "c", "h", "L")

_GATE_COLOR = {"i": "input", "f": "forget", "g": "candidate", "o": "output"}
_BLOCK = 4.4  # width of one step in data units
# Where the nodes of a step sit, relative to the step's left edge (x, y).
_PLACE = {
    "theta": (0.25, 0.0),
    "x": (1.5, 0.0),
    "z": (1.5, 1.0),
    "f": (0.45, 2.0),
    "i": (1.2, 2.0),
    "g": (1.95, 2.0),
    "o": (2.7, 2.0),
    "c": (1.6, 3.1),
    "h": (3.6, 2.0),
    "L": (3.6, 0.0),
}
_RADIUS = 0.3
_INCH_PER_UNIT = 0.85
_BOXES = ("theta", "L")  # drawn as boxes: the weights and the losses
_BACKWARD = "#c0392b"  # the colour of gradients
_FORWARD = "#333333"
_GREY = {"x": "#8c8c8c", "z": "#555555", "theta": "#555555", "L": "#555555"}


def _check(steps: Any, backward: Any) -> int:
    steps = checks.integer("steps", steps, minimum=1, maximum=MAX_STEPS)
    checks.boolean("backward", backward)
    return steps


def _index(k: int, steps: int) -> str:
    """The time index of step k (0 .. steps) as text: 'T', 'T-1', ..."""
    back = steps - k
    return "T" if back == 0 else f"T-{back}"


def graph_edges(steps: int = 2) -> list[tuple[str, str]]:
    """The arrows of the forward graph over the last ``steps`` steps.

    Node names are a kind from :data:`STEP_NODES` and a step number k = 1 .. steps
    (``"c2"`` is the cell state of the second step drawn), plus ``"h0"`` and ``"c0"``
    for the states that enter the first step drawn and ``"theta"`` for the weights
    W, U, b, which every step shares. ``"L3"`` is the loss of step 3; the loss is
    their sum. Returns (source, target) pairs; the backward pass runs along each of
    them in reverse.
    """
    steps = _check(steps, False)
    edges = []
    for k in range(1, steps + 1):
        edges += [
            (f"x{k}", f"z{k}"),
            (f"h{k - 1}", f"z{k}"),
            ("theta", f"z{k}"),
        ]
        edges += [(f"z{k}", f"{gate}{k}") for gate in "ifgo"]
        edges += [(f"{n}{k}", f"c{k}") for n in "fig"] + [
            (f"c{k - 1}", f"c{k}")
        ]
        edges += [(f"c{k}", f"h{k}"), (f"o{k}", f"h{k}"), (f"h{k}", f"L{k}")]
    return edges


def _positions(steps: int) -> dict[str, tuple[float, float]]:
    """Where each node is drawn; the shared weights once per step, as "theta<k>"."""
    where = {"h0": (0.0, 2.0), "c0": (0.0, 3.1)}
    for k in range(1, steps + 1):
        left = 0.6 + (k - 1) * _BLOCK
        for kind, (dx, dy) in _PLACE.items():
            where[f"{kind}{k}"] = (left + dx, dy)
    return where


def _kind(node: str) -> str:
    return node.rstrip("0123456789")


def _label(node: str, steps: int) -> str:
    kind, k = _kind(node), int(node[len(_kind(node)) :])
    if kind == "theta":
        return r"$W\!,U\!,b$"
    sub = _index(k, steps)
    if kind == "L":
        return rf"$\mathcal{{L}}_{{{sub}}}$"
    return rf"${kind}_{{{sub}}}$"


def _color(node: str) -> str:
    kind = _kind(node)
    if kind in _GATE_COLOR:
        return COLORS[_GATE_COLOR[kind]]
    return {"c": COLORS["cell"], "h": COLORS["hidden"]}.get(kind) or _GREY[kind]


def _draw_panel(
    ax: Axes, steps: int, backward: bool, points_per_unit: float
) -> None:
    where = _positions(steps)
    shrink = _RADIUS * points_per_unit + 1.5  # arrow ends at the node's edge
    for source, target in graph_edges(steps):
        if source == "theta":
            source = (
                f"theta{target[1:]}"  # each step's copy of the shared weights
            )
        start, end = where[source], where[target]
        if backward:
            start, end = end, start
        ax.annotate(
            "",
            xy=end,
            xytext=start,
            arrowprops=dict(
                arrowstyle="-|>",
                color=_BACKWARD if backward else _FORWARD,
                lw=1.6 if backward else 1.2,
                ls=(0, (3, 2)) if source.startswith("theta") else "-",
                shrinkA=shrink,
                shrinkB=shrink,
                mutation_scale=11,
            ),
        )
    for node, (x, y) in where.items():
        style = dict(facecolor="white", edgecolor=_color(node), lw=2, zorder=3)
        if _kind(node) in _BOXES:
            width = 0.95 if _kind(node) == "theta" else 0.7
            patch = Rectangle((x - width / 2, y - 0.28), width, 0.56, **style)
        else:
            patch = Circle((x, y), _RADIUS, **style)
        ax.add_patch(patch)
        ax.text(
            x,
            y,
            _label(node, steps),
            ha="center",
            va="center",
            fontsize=11,
            zorder=4,
        )
    if backward:
        _annotate_backward(ax, where, steps)
    ax.set_xlim(-0.45, 0.6 + (steps - 1) * _BLOCK + 4.05)
    ax.set_ylim(-0.75, 3.55)
    ax.set_aspect("equal")
    ax.axis("off")


def _annotate_backward(
    ax: Axes, where: dict[str, tuple[float, float]], steps: int
) -> None:
    """Name the gradients on three arrows: the highway, U^T, the weights."""
    last = _index(steps, steps)
    (x0, y), (x1, _) = where[f"c{steps - 1}"], where[f"c{steps}"]
    ax.text(
        (x0 + x1) / 2,
        y + 0.12,
        rf"$f_{{{last}}} \odot \delta c_{{{last}}}$",
        ha="center",
        va="bottom",
        fontsize=10,
        color=_BACKWARD,
    )
    (x0, y0), (x1, y1) = where[f"h{steps - 1}"], where[f"z{steps}"]
    ax.text(
        (x0 + x1) / 2,
        (y0 + y1) / 2 - 0.15,
        rf"$U^\top \delta z_{{{last}}}$",
        ha="right",
        va="top",
        fontsize=10,
        color=_BACKWARD,
    )
    x, y = where[f"theta{steps}"]
    ax.text(
        x - 0.5,
        y - 0.36,
        r"$\delta W, \delta U, \delta b$: sums over all steps",
        ha="left",
        va="top",
        fontsize=10,
        color=_BACKWARD,
    )


def draw_bptt_graph(steps: int = 2, *, backward: bool = True) -> Figure:
    """Draw the graph of ``graph_edges(steps)``: the forward pass, and the backward pass.

    Returns a new matplotlib Figure, at most 10 inches wide, with one panel (the forward
    pass) or, if ``backward``, two: below it the same nodes with every arrow reversed, in
    the gradients' colour, as backpropagation through time walks them. The shared weights
    are drawn once per step.
    """
    steps = _check(steps, backward)
    panels = 2 if backward else 1
    span = 0.6 + (steps - 1) * _BLOCK + 4.5  # data units across
    scale = min(_INCH_PER_UNIT, 9.6 / span)  # inches per data unit
    fig, axes = plt.subplots(
        panels,
        1,
        figsize=(max(span * scale, 6.0), (4.3 * scale + 0.35) * panels),
        squeeze=False,
    )
    titles = [
        r"forward pass; the loss $\mathcal{L}$ is the mean of "
        r"$\mathcal{L}_1, \dots, \mathcal{L}_T$",
        r"backward pass: the same arrows reversed, each carrying a gradient $\delta$",
    ]
    for row, ax in enumerate(axes[:, 0]):
        _draw_panel(ax, steps, backward=row == 1, points_per_unit=72 * scale)
        ax.set_title(titles[row], fontsize=11)
    return fig
