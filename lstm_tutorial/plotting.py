"""The book's one figure style, and small plotting helpers shared by the chapters.

Checks: :func:`plot_dependencies` checks its tokens, dependencies, ``long_from`` and ``ax``
with :mod:`lstm_tutorial.checks` before drawing; :func:`use_book_style` takes no arguments.
"""

from __future__ import annotations

from typing import Any

import matplotlib as mpl

from lstm_tutorial import checks

#: Colours used for the same quantity in every chapter, so a reader learns them once.
COLORS = {
    "input": "#1b9e77",  # i, the input gate
    "forget": "#d95f02",  # f, the forget gate
    "candidate": "#7570b3",  # g, the candidate value
    "output": "#e7298a",  # o, the output gate
    "cell": "#386cb0",  # c, the cell state
    "hidden": "#66a61e",  # h, the hidden state
    "rnn": "#666666",  # the plain RNN it is compared with
    "lstm": "#386cb0",
    "gru": "#a6761d",
}

_BOOK_STYLE = {
    "figure.figsize": (7.0, 3.6),
    "figure.dpi": 110,
    "savefig.dpi": 110,
    "savefig.bbox": "tight",
    "figure.constrained_layout.use": True,
    "font.size": 11,
    "axes.titlesize": 12,
    "axes.labelsize": 11,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "legend.frameon": False,
    "lines.linewidth": 2.0,
    "image.cmap": "viridis",
    "svg.hashsalt": "lstm-tutorial",
    "axes.prop_cycle": mpl.cycler(
        color=[
            COLORS[k]
            for k in ("cell", "forget", "input", "output", "candidate", "rnn")
        ]
    ),
}


def use_book_style() -> None:
    """Set matplotlib's rcParams to the book's style. Call once at the top of a notebook."""
    mpl.rcParams.update(_BOOK_STYLE)


def _check_ax(ax: Any) -> Any:
    """None (draw on a new figure) or a matplotlib Axes."""
    from matplotlib.axes import Axes

    return checks.optional(
        checks.instance, "ax", ax, kind=Axes, expected="a matplotlib Axes"
    )


def plot_dependencies(tokens, dependencies, *, long_from: int = 5, ax=None):
    """Draw a sentence with an arc from each word back to the word it depends on.

    ``tokens``: the words (a list of str); ``dependencies``: a list of
    :class:`lstm_tutorial.story.Dependency` whose indices point into ``tokens``. Arcs
    spanning at least ``long_from`` tokens are drawn as long-term dependencies.
    Returns the matplotlib Axes.
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import Arc

    from lstm_tutorial.story import Dependency

    for k, token in enumerate(checks.sequence("tokens", tokens)):
        checks.string(f"tokens[{k}]", token)
    for k, dep in enumerate(
        checks.sequence("dependencies", dependencies, empty=True)
    ):
        checks.instance(f"dependencies[{k}]", dep, Dependency, "a Dependency")
        if max(dep.dependent, dep.antecedent) >= len(tokens):
            raise ValueError(
                f"dependencies[{k}] points at token {max(dep.dependent, dep.antecedent)}, "
                f"but tokens has {len(tokens)}"
            )
    checks.positive_int("long_from", long_from)
    ax = _check_ax(ax)
    if ax is None:
        _, ax = plt.subplots(
            figsize=(min(10.0, max(6.0, 0.55 * len(tokens))), 2.8)
        )
    for k, tok in enumerate(tokens):
        ax.text(k, 0, tok, ha="center", va="top", fontsize=11)
    top = 0.0
    for dep in dependencies:
        lo, hi = sorted((dep.antecedent, dep.dependent))
        width = hi - lo
        height = 0.5 + 0.35 * width
        is_long = dep.distance >= long_from
        colour = COLORS["cell"] if is_long else COLORS["forget"]
        ax.add_patch(
            Arc(
                ((lo + hi) / 2, 0.15),
                width,
                height,
                theta1=0,
                theta2=180,
                color=colour,
                lw=1.8,
            )
        )
        ax.annotate(
            "",
            xy=(dep.antecedent, 0.17),
            xytext=(dep.antecedent + 0.001, 0.35),
            arrowprops={"arrowstyle": "-|>", "color": colour, "lw": 1.2},
        )
        top = max(top, height / 2 + 0.15)
    ax.plot(
        [],
        [],
        color=COLORS["forget"],
        label=f"short-term (< {long_from} tokens)",
    )
    ax.plot(
        [], [], color=COLORS["cell"], label=f"long-term (>= {long_from} tokens)"
    )
    ax.legend(loc="upper right", ncol=2)
    ax.set_xlim(-0.8, len(tokens) - 0.2)
    ax.set_ylim(-0.6, top + 0.6)
    ax.axis("off")
    return ax
