"""The cell diagram: widths follow the values, bad steps are refused, figures are returned."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from lstm_tutorial.diagram import (
    NO_FLOW,
    PATHS,
    STEP_KEYS,
    THICKEST,
    THINNEST,
    check_step,
    draw_cell,
    draw_unrolled,
    flow_amounts,
    line_width,
    plot_gates_per_word,
    plot_states_per_word,
)


def make_step(H=3, D=5, seed=0):
    """A consistent step of a random cell: gates in (0, 1), c = f c_prev + i g, h = o tanh c."""
    rng = np.random.default_rng(seed)
    sig = lambda z: 1 / (1 + np.exp(-z))  # noqa: E731
    i, f, o = (sig(rng.normal(size=H)) for _ in range(3))
    g = np.tanh(rng.normal(size=H))
    c_prev = rng.normal(size=H)
    c = f * c_prev + i * g
    x = np.zeros(D)
    x[seed % D] = 1.0
    return {
        "x": x,
        "h_prev": np.tanh(rng.normal(size=H)),
        "c_prev": c_prev,
        "i": i,
        "f": f,
        "g": g,
        "o": o,
        "c": c,
        "h": o * np.tanh(c),
    }


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_flow_amounts_are_mean_absolute_values_of_each_path():
    step = make_step()
    amounts = flow_amounts(step)
    assert tuple(amounts) == PATHS
    assert amounts["fc"] == pytest.approx(np.mean(np.abs(step["f"] * step["c_prev"])))
    assert amounts["ig"] == pytest.approx(np.mean(np.abs(step["i"] * step["g"])))
    assert amounts["tanh_c"] == pytest.approx(np.mean(np.abs(np.tanh(step["c"]))))
    assert amounts["c"] == pytest.approx(np.mean(np.abs(step["c"])))
    assert amounts["x"] == 1.0  # one-hot: its largest entry


def test_closed_forget_gate_stops_the_flow_of_the_old_memory():
    step = make_step()
    step["f"] = np.zeros(3)
    assert flow_amounts(step)["fc"] == 0.0
    step["f"] = np.ones(3)
    assert flow_amounts(step)["fc"] == pytest.approx(flow_amounts(step)["c_prev"])


def test_line_width_is_increasing_from_thinnest_to_thickest():
    amounts = np.linspace(0, 1, 50)
    widths = line_width(amounts)
    assert np.all(np.diff(widths) > 0)
    assert widths[0] == THINNEST and widths[-1] == pytest.approx(THICKEST)
    assert line_width(0.5, full=2.0) == pytest.approx(line_width(0.25))
    assert isinstance(line_width(0.3), float)


@pytest.mark.parametrize("bad", [-0.1, np.nan, np.inf])
def test_line_width_rejects_negative_or_non_finite_amounts(bad):
    with pytest.raises(ValueError, match="amount"):
        line_width(bad)
    with pytest.raises(ValueError, match="full"):
        line_width(0.5, full=0.0)


def test_drawn_line_widths_follow_the_amounts():
    step = make_step()
    ax = draw_cell(step)
    widths = sorted({round(line.get_linewidth(), 6) for line in ax.get_lines()})
    amounts = flow_amounts(step)
    full = max(1.0, *amounts.values())
    expected = {round(line_width(a, full=full), 6) for a in amounts.values() if a >= NO_FLOW}
    assert expected <= set(widths)


def test_check_step_rejects_missing_keys():
    step = make_step()
    del step["o"]
    with pytest.raises(ValueError, match=r"missing \['o'\]"):
        check_step(step)
    with pytest.raises(ValueError, match="mapping"):
        check_step([1, 2, 3])


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("f", np.ones((3, 1)), r"step\['f'\] must be a non-empty finite 1-D"),
        ("c", np.array([0.0, np.nan, 1.0]), r"step\['c'\] must be a non-empty finite 1-D"),
        ("i", np.ones(4) * 0.5, r"shape \(3,\).*'i': \(4,\)"),
        ("o", np.array([0.5, 1.5, 0.5]), r"step\['o'\] must lie in \[0, 1\]"),
        ("g", np.array([0.5, -1.5, 0.5]), r"step\['g'\] must lie in \[-1, 1\]"),
        ("h", np.array([0.5, -1.5, 0.5]), r"step\['h'\].*\[-1, 1\]"),
    ],
)
def test_check_step_rejects_wrong_shapes_and_ranges(key, value, message):
    step = make_step()
    step[key] = value
    with pytest.raises(ValueError, match=message):
        check_step(step)
    with pytest.raises(ValueError, match=message):
        draw_cell(step)


def test_draw_cell_returns_axes_with_labelled_valves():
    ax = draw_cell(make_step(), title="a step", unit_names=["a", "b", "c"], highlight="forget")
    assert isinstance(ax, Axes)
    texts = [t.get_text() for t in ax.texts]
    assert texts.count("σ") == 3 and texts.count("tanh") == 2
    assert texts.count("×") == 3 and texts.count("+") == 1
    assert any(t.startswith("f_t\n") for t in texts)
    assert ax.get_title() == "a step"


def test_draw_cell_rejects_unknown_highlight_and_wrong_unit_names():
    with pytest.raises(ValueError, match="highlight"):
        draw_cell(make_step(), highlight="memory")
    with pytest.raises(ValueError, match="unit_names"):
        draw_cell(make_step(), unit_names=["only one"])


def test_draw_unrolled_draws_one_cell_per_word():
    steps = [make_step(seed=k) for k in range(3)]
    ax = draw_unrolled(steps, ["It", "barks", "loudly"], first_t=7)
    assert isinstance(ax, Axes)
    texts = [t.get_text() for t in ax.texts]
    assert texts.count("+") == 3 and "barks" in texts and "t = 9" in texts
    with pytest.raises(ValueError, match="equal length"):
        draw_unrolled(steps, ["It"])
    with pytest.raises(ValueError, match="equal length"):
        draw_unrolled([], [])


def test_step_keys_are_what_a_step_needs():
    assert set(STEP_KEYS) == set(make_step())


def test_plot_gates_per_word_draws_one_heatmap_per_gate():
    words = ["It", "barks", "."]
    rng = np.random.default_rng(0)
    gates = {name: rng.random((3, 2)) for name in ("forget", "input", "output")}
    fig = plot_gates_per_word(gates, words, ["a", "b"], title="gates")
    assert isinstance(fig, Figure) and len(fig.axes) == 3
    assert [t.get_text() for t in fig.axes[-1].get_xticklabels()] == words
    assert len(fig.axes[0].images) == 1


def test_plot_gates_per_word_rejects_bad_shapes_and_names():
    words = ["It", "barks", "."]
    with pytest.raises(ValueError, match=r"shape \(T, H\) with T = 3"):
        plot_gates_per_word({"forget": np.zeros((4, 2))}, words, ["a", "b"])
    with pytest.raises(ValueError, match=r"shape \(T, H\)"):
        plot_gates_per_word({"forget": np.zeros((3, 2)), "input": np.zeros((3, 1))}, words, "ab")
    with pytest.raises(ValueError, match="unit_names"):
        plot_gates_per_word({"forget": np.zeros((3, 2))}, words, ["a"])
    with pytest.raises(ValueError, match="keys of COLORS"):
        plot_gates_per_word({"remember": np.zeros((3, 2))}, words, ["a", "b"])


def test_plot_states_per_word_draws_the_chosen_units():
    words = ["It", "barks", "."]
    states = {"c_t": np.ones((3, 3)), "h_t": np.zeros((3, 3))}
    fig = plot_states_per_word(states, words, ["a", "b", "c"], units=["a", "c"])
    assert isinstance(fig, Figure) and len(fig.axes) == 2
    assert len(fig.axes[0].get_lines()) == 2 + 1  # two units and the zero line
    with pytest.raises(ValueError, match="units must be among"):
        plot_states_per_word(states, words, ["a", "b", "c"], units=["d"])
    with pytest.raises(ValueError, match="at least one"):
        plot_states_per_word({}, words, ["a", "b", "c"])


def test_draw_stack_draws_one_box_per_layer_and_step():
    from matplotlib.patches import FancyBboxPatch

    from lstm_tutorial.diagram import draw_stack

    ax = draw_stack(4, 3, values=np.full((3, 4), 1e-7), title="stack")
    boxes = [p for p in ax.patches if isinstance(p, FancyBboxPatch)]
    assert len(boxes) == 12
    assert ax.get_title() == "stack"
    plt.close(ax.figure)


def test_draw_stack_rejects_values_of_the_wrong_shape():
    from lstm_tutorial.diagram import draw_stack

    with pytest.raises(ValueError, match=r"shape \(2, 3\)"):
        draw_stack(3, 2, values=np.zeros((3, 2)))
    with pytest.raises(ValueError, match="T must be an integer >= 1"):
        draw_stack(0, 2)


# Bad input: what the bad-input harness (test_bad_input_numpy.py) cannot express


def test_bad_arguments_are_refused_before_a_figure_is_made():
    plt.close("all")
    with pytest.raises(ValueError, match="unit_names must name the 3 units"):
        draw_cell(make_step(), unit_names=["a"], show_values=False)
    with pytest.raises(TypeError, match="ax must be a matplotlib Axes"):
        draw_unrolled([make_step()], ["It"], ax="ax")
    with pytest.raises(TypeError, match="unit_names must be a list or tuple"):
        plot_gates_per_word({"forget": np.zeros((3, 2))}, ["a", "b", "c"], "ab")
    assert plt.get_fignums() == []


def test_draw_unrolled_names_the_bad_step_and_refuses_steps_of_different_cells():
    steps = [make_step(seed=k) for k in range(3)]
    steps[1] = dict(steps[1], o=steps[1]["o"] + 2)
    with pytest.raises(ValueError, match=r"steps\[1\]\['o'\] must lie in \[0, 1\]"):
        draw_unrolled(steps, ["a", "b", "c"])
    mixed = [make_step(H=3), make_step(H=4)]
    with pytest.raises(ValueError, match=r"steps\[1\] has 4 units"):
        draw_unrolled(mixed, ["a", "b"])


def test_check_step_refuses_unknown_keys_lists_and_tensors_with_a_hint():
    with pytest.raises(ValueError, match=r"step has unknown keys \['c_t'\]"):
        check_step(make_step() | {"c_t": np.zeros(3)})
    with pytest.raises(TypeError, match=r"np.asarray\(step\['c'\]\)"):
        check_step(make_step() | {"c": [0.1, 0.2, 0.3]})
    with pytest.raises(TypeError, match=r"step\['c'\].detach\(\).cpu\(\).numpy\(\)"):
        check_step(make_step() | {"c": torch.zeros(3, dtype=torch.float64)})


def test_line_width_refuses_bools_and_lists_but_takes_int_arrays():
    with pytest.raises(TypeError, match="amount must be a finite number >= 0"):
        line_width(True)
    with pytest.raises(TypeError, match=r"np.asarray\(amount\)"):
        line_width([0.5])
    np.testing.assert_allclose(line_width(np.array([0, 1])), [THINNEST, THICKEST])
