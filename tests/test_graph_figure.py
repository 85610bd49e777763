"""The computational-graph figure of BPTT: the right arrows, drawn legibly, bad input refused."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pytest
from matplotlib.text import Annotation

from lstm_tutorial import use_book_style
from lstm_tutorial.graph_figure import MAX_STEPS, draw_bptt_graph, graph_edges


@pytest.fixture(autouse=True)
def close_figures():
    use_book_style()
    yield
    plt.close("all")


def inputs_of(edges, node):
    return sorted(source for source, target in edges if target == node)


def consumers_of(edges, node):
    return sorted(target for source, target in edges if source == node)


def test_each_step_has_the_arrows_of_the_lstm_equations():
    edges = graph_edges(2)
    assert len(edges) == len(set(edges)) == 2 * 14
    assert inputs_of(edges, "z2") == [
        "h1",
        "theta",
        "x2",
    ]  # z_t = W x_t + U h_{t-1} + b
    assert consumers_of(edges, "z2") == ["f2", "g2", "i2", "o2"]
    assert inputs_of(edges, "c2") == [
        "c1",
        "f2",
        "g2",
        "i2",
    ]  # c_t = f c_{t-1} + i g
    assert inputs_of(edges, "h2") == ["c2", "o2"]  # h_t = o tanh(c_t)
    assert inputs_of(edges, "L2") == ["h2"]
    assert inputs_of(edges, "z1") == ["h0", "theta", "x1"]


def test_the_backward_pass_collects_each_state_gradient_from_two_places():
    edges = graph_edges(3)
    # the chapter's point: delta h_t comes from the loss and from step t + 1,
    # delta c_t from h_t and from c_{t+1}; at the last step only from the step itself
    assert consumers_of(edges, "h2") == ["L2", "z3"]
    assert consumers_of(edges, "c2") == ["c3", "h2"]
    assert consumers_of(edges, "h3") == ["L3"]
    assert consumers_of(edges, "c3") == ["h3"]
    assert consumers_of(edges, "theta") == [
        "z1",
        "z2",
        "z3",
    ]  # a sum over steps


def test_the_graph_has_no_cycle():
    edges = graph_edges(MAX_STEPS)
    done, order = set(), []
    nodes = {n for edge in edges for n in edge}
    while len(done) < len(nodes):
        ready = [n for n in nodes - done if set(inputs_of(edges, n)) <= done]
        assert ready, "a cycle"
        done |= set(ready)
        order += ready
    assert order.index("c3") > order.index("c1")


@pytest.mark.parametrize("steps", range(1, MAX_STEPS + 1))
def test_the_figure_fits_the_page_and_its_text_is_legible(steps):
    fig = draw_bptt_graph(steps)
    width, _ = fig.get_size_inches()
    assert width <= 10.0
    fig.canvas.draw()
    sizes = [
        t.get_fontsize()
        for t in fig.findobj(matplotlib.text.Text)
        if t.get_text()
    ]
    assert sizes and min(sizes) >= 9


def test_the_backward_panel_reverses_every_arrow():
    fig = draw_bptt_graph(2)
    forward, backward = fig.axes
    arrows = [
        [a for a in ax.texts if isinstance(a, Annotation)] for ax in fig.axes
    ]
    assert len(arrows[0]) == len(arrows[1]) == len(graph_edges(2))
    for ahead, behind in zip(*arrows, strict=True):
        assert ahead.xy == behind.xyann and ahead.xyann == behind.xy
    assert forward.get_title().startswith(
        "forward"
    ) and backward.get_title().startswith("back")
    assert len(draw_bptt_graph(2, backward=False).axes) == 1


@pytest.mark.parametrize("steps", [0, MAX_STEPS + 1, 2.0, True, "2", None])
def test_bad_steps_are_refused_naming_the_argument(steps):
    with pytest.raises(ValueError, match=r"\bsteps must be an integer"):
        draw_bptt_graph(steps)
    with pytest.raises(ValueError, match=r"\bsteps must be an integer"):
        graph_edges(steps)


@pytest.mark.parametrize("backward", [1, "yes", None])
def test_bad_backward_is_refused_naming_the_argument(backward):
    with pytest.raises(TypeError, match=r"\bbackward must be True or False"):
        draw_bptt_graph(2, backward=backward)
    assert plt.get_fignums() == []  # refused before any drawing
