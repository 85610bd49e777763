"""The cell diagram: widths follow the values, bad steps are refused, figures are returned."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import inspect

import matplotlib.pyplot as plt
import matplotlib.text
import numpy as np
import pytest
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import FancyBboxPatch

from lstm_tutorial import diagram
from lstm_tutorial.diagram import (
    MAX_WIDTH,
    NO_FLOW,
    PATHS,
    STEP_KEYS,
    THICKEST,
    THINNEST,
    check_step,
    draw_cell,
    draw_looped_and_unrolled,
    draw_stack,
    draw_unrolled,
    flow_amounts,
    line_width,
    plot_gates_per_word,
    plot_states_per_word,
)
from lstm_tutorial.handset import UNITS, trace_gates
from lstm_tutorial.plotting import use_book_style
from lstm_tutorial.story import STORY, tokenize


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
    assert amounts["fc"] == pytest.approx(
        np.mean(np.abs(step["f"] * step["c_prev"]))
    )
    assert amounts["ig"] == pytest.approx(
        np.mean(np.abs(step["i"] * step["g"]))
    )
    assert amounts["tanh_c"] == pytest.approx(
        np.mean(np.abs(np.tanh(step["c"])))
    )
    assert amounts["c"] == pytest.approx(np.mean(np.abs(step["c"])))
    assert amounts["x"] == 1.0  # one-hot: its largest entry


def test_closed_forget_gate_stops_the_flow_of_the_old_memory():
    step = make_step()
    step["f"] = np.zeros(3)
    assert flow_amounts(step)["fc"] == 0.0
    step["f"] = np.ones(3)
    assert flow_amounts(step)["fc"] == pytest.approx(
        flow_amounts(step)["c_prev"]
    )


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
    expected = {
        round(line_width(a, full=full), 6)
        for a in amounts.values()
        if a >= NO_FLOW
    }
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
        (
            "c",
            np.array([0.0, np.nan, 1.0]),
            r"step\['c'\] must be a non-empty finite 1-D",
        ),
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
    ax = draw_cell(
        make_step(),
        title="a step",
        unit_names=["a", "b", "c"],
        highlight="forget",
    )
    assert isinstance(ax, Axes)
    texts = [t.get_text() for t in ax.texts]
    assert texts.count("σ") == 3 and texts.count("tanh") == 2
    assert texts.count("×") == 3 and texts.count("+") == 1
    assert any(t.startswith("$f_t$\n") for t in texts)
    assert any(t.startswith("$c_{t-1}$\n") for t in texts)  # maths, not "c_t-1"
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
        plot_gates_per_word(
            {"forget": np.zeros((3, 2)), "input": np.zeros((3, 1))}, words, "ab"
        )
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
    with pytest.raises(
        ValueError, match=r"steps\[1\]\['o'\] must lie in \[0, 1\]"
    ):
        draw_unrolled(steps, ["a", "b", "c"])
    mixed = [make_step(H=3), make_step(H=4)]
    with pytest.raises(ValueError, match=r"steps\[1\] has 4 units"):
        draw_unrolled(mixed, ["a", "b"])


def test_check_step_refuses_unknown_keys_lists_and_tensors_with_a_hint():
    with pytest.raises(ValueError, match=r"step has unknown keys \['c_t'\]"):
        check_step(make_step() | {"c_t": np.zeros(3)})
    with pytest.raises(TypeError, match=r"np.asarray\(step\['c'\]\)"):
        check_step(make_step() | {"c": [0.1, 0.2, 0.3]})
    with pytest.raises(
        TypeError, match=r"step\['c'\].detach\(\).cpu\(\).numpy\(\)"
    ):
        check_step(make_step() | {"c": torch.zeros(3, dtype=torch.float64)})


def test_line_width_refuses_bools_and_lists_but_takes_int_arrays():
    with pytest.raises(TypeError, match="amount must be a finite number >= 0"):
        line_width(True)
    with pytest.raises(TypeError, match=r"np.asarray\(amount\)"):
        line_width([0.5])
    np.testing.assert_allclose(
        line_width(np.array([0, 1])), [THINNEST, THICKEST]
    )


# Every figure fits the book's column and its smallest text is readable


def story_steps(first: str, n: int):
    """``n`` steps of the hand-set cell over the story, from the word ``first``."""
    tokens = tokenize(STORY)
    trace = trace_gates(tokens)
    start = trace.index(first)
    window = range(start, start + n)
    return (
        [trace.step(t) for t in window],
        [tokens[t] for t in window],
        start + 1,
    )


def book_figures():
    """Each public drawing function, called as the book calls it (and at its largest)."""
    tokens = tokenize(STORY)
    trace = trace_gates(tokens)
    gates = {"forget": trace.f, "input": trace.i, "output": trace.o}
    states = {"c_t": trace.c, "h_t": trace.h}
    steps4, words4, t4 = story_steps("They", 4)
    steps5, words5, t5 = story_steps("It", 5)
    return {
        "draw_cell": lambda: (
            draw_cell(trace.step(3), unit_names=UNITS, title="t").figure
        ),
        "draw_unrolled": lambda: (
            draw_unrolled(steps4, words4, first_t=t4, title="t").figure
        ),
        "draw_unrolled(per_row=3)": lambda: (
            draw_unrolled(steps4, words4, per_row=3).figure
        ),
        "draw_looped_and_unrolled": lambda: draw_looped_and_unrolled(
            steps5, words5, first_t=t5, unit_names=UNITS, title="t"
        ),
        "plot_gates_per_word": lambda: plot_gates_per_word(
            gates, tokens, UNITS, title="t"
        ),
        "plot_gates_per_word(T=40)": lambda: plot_gates_per_word(
            {"forget": np.zeros((40, 3))}, ["w"] * 40, UNITS
        ),
        "plot_states_per_word": lambda: plot_states_per_word(
            states, tokens, UNITS, title="t"
        ),
        "draw_stack": lambda: draw_stack(4, 2, title="t").figure,
        "draw_stack(6, 3, values)": lambda: (
            draw_stack(6, 3, values=np.full((3, 6), 3e-8), title="t").figure
        ),
        "draw_stack(12, 2)": lambda: draw_stack(12, 2).figure,
    }


def test_every_public_drawing_function_is_measured():
    drawing = {
        name
        for name, fn in inspect.getmembers(diagram, inspect.isfunction)
        if fn.__module__ == diagram.__name__
        and name.startswith(("draw_", "plot_"))
    }
    measured = {label.split("(")[0] for label in book_figures()}
    assert drawing == measured


@pytest.mark.parametrize("label", list(book_figures()))
def test_figure_fits_the_column_and_its_text_is_at_least_9_pt(label):
    with matplotlib.rc_context():
        use_book_style()
        fig = book_figures()[label]()
        fig.canvas.draw()
        # the saved PNG is cropped to its tight box, which a legend may widen
        width = max(fig.get_size_inches()[0], fig.get_tightbbox().width)
        assert width <= MAX_WIDTH + 0.4, f"{label}: {width:.2f} inches wide"
        texts = [t for t in fig.findobj(matplotlib.text.Text) if t.get_text()]
        smallest = min(texts, key=lambda t: t.get_fontsize())
        assert smallest.get_fontsize() >= 9, (
            f"{label}: {smallest.get_text()!r} is {smallest.get_fontsize()} pt"
        )


def test_draw_unrolled_wraps_into_rows_that_start_where_the_last_ended():
    steps = [make_step(seed=k) for k in range(5)]
    ax = draw_unrolled(steps, list("abcde"), first_t=3, per_row=2)
    texts = [t.get_text() for t in ax.texts]
    # three rows: t = 3-4, 5-6, 7; each row starts with the states the last ended with
    for t in (2, 4, 6):
        assert f"$c_{{{t}}}$" in texts and f"$h_{{{t}}}$" in texts
    assert texts.count("$c_{4}$") == 2 and texts.count("$c_{7}$") == 1
    assert ax.figure.get_size_inches()[0] <= MAX_WIDTH
    with pytest.raises(
        ValueError, match=r"per_row must be an integer in \[1, 3\]"
    ):
        draw_unrolled(steps, list("abcde"), per_row=4)


def test_draw_stack_labels_count_from_one_and_name_the_code_index():
    texts = [t.get_text() for t in draw_stack(4, 2).texts]
    assert "$x_{1}$" in texts and "x[:, 0]" in texts
    assert "$h_{1}^{(2)}$" in texts and "output[:, 0]" in texts
    assert "$h_{4}^{(2)}$" in texts and "output[:, 3]" in texts
    assert "$h_0^{(1)}, c_0^{(1)}$" in texts and "h0[0], c0[0]" in texts
    assert "$h_{4}^{(2)}, c_{4}^{(2)}$" in texts and "h_n[1], c_n[1]" in texts
    assert "$t=1$\n$\\ell=1$" in texts and "$t=4$\n$\\ell=2$" in texts
    assert not any("layer 0" in t or "output[4]" in t for t in texts)
    time_first = [
        t.get_text() for t in draw_stack(3, 1, batch_first=False).texts
    ]
    assert "output[0]" in time_first and "x[2]" in time_first
    with pytest.raises(TypeError, match="batch_first must be True or False"):
        draw_stack(3, 1, batch_first=1)


def values_by_gid(fig, view):
    return {
        t.get_gid().split(":", 1)[1]: t.get_text()
        for t in fig.findobj(matplotlib.text.Text)
        if (t.get_gid() or "").startswith(view + ":")
    }


def test_looped_and_unrolled_views_print_the_same_values_from_the_same_steps():
    steps, words, first_t = story_steps("It", 5)
    fig = draw_looped_and_unrolled(steps, words, first_t=first_t)
    looped, unrolled = (values_by_gid(fig, v) for v in ("looped", "unrolled"))
    assert looped == unrolled and len(looped) == 2 * 5 * len(UNITS)
    number = UNITS.index("number")
    assert looped[f"h:{first_t}:{number}"] == "+0.8"  # 'It' shows the number
    assert looped[f"c:{first_t + 4}:{number}"] == "+1.0"  # and keeps it
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert texts.count("delay") == 1 and "$c_{t-1},$\n$h_{t-1}$" in texts
    assert all(w in texts for w in words)
    boxes = [p for p in fig.axes[0].patches if isinstance(p, FancyBboxPatch)]
    assert len(boxes) == 1 + 5  # the looped cell and one copy per step


def test_looped_and_unrolled_refuses_bad_input_before_drawing():
    plt.close("all")
    steps, words, _ = story_steps("It", 5)
    with pytest.raises(ValueError, match="equal length"):
        draw_looped_and_unrolled(steps, words[:4])
    with pytest.raises(ValueError, match="unit_names must name the 3 units"):
        draw_looped_and_unrolled(steps, words, unit_names=["a"])
    with pytest.raises(ValueError, match="first_t must be an integer >= 1"):
        draw_looped_and_unrolled(steps, words, first_t=0)
    with pytest.raises(TypeError, match="title must be a string"):
        draw_looped_and_unrolled(steps, words, title=3)
    with pytest.raises(ValueError, match=r"steps\[1\]\['o'\] must lie in"):
        draw_looped_and_unrolled(
            [steps[0], dict(steps[1], o=steps[1]["o"] + 2)], words[:2]
        )
    many = [make_step(seed=k) for k in range(9)]
    with pytest.raises(
        ValueError, match="steps and words: 9 steps need a figure"
    ):
        draw_looped_and_unrolled(many, list("abcdefghi"))
    assert plt.get_fignums() == []
