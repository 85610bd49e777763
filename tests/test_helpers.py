"""The small helpers every chapter uses: seeding, source display, figure style, the story."""

from __future__ import annotations

import random

import matplotlib as mpl
import matplotlib.pyplot as plt
import matplotlib.text
import numpy as np
import pytest
import torch

from lstm_tutorial import seed_everything, show_source, use_book_style
from lstm_tutorial.plotting import plot_dependencies
from lstm_tutorial.story import (
    PROMPT,
    STORY,
    Dependency,
    story_dependencies,
    tokenize,
)


def test_seed_everything_makes_all_generators_repeat():
    def draw():
        rng = seed_everything(7)
        legacy = np.random.rand()  # noqa: NPY002 - the global state is what is tested
        return random.random(), legacy, rng.random(), torch.rand(1).item()

    assert draw() == draw()


@pytest.mark.parametrize("bad", [-1, 1.5, "3", True, None])
def test_seed_everything_rejects_non_integer_seeds(bad):
    with pytest.raises(
        ValueError,
        match=r"seed must be an integer in \[0, 9223372036854775807\]",
    ):
        seed_everything(bad)


def test_show_source_refuses_code_wider_than_the_books_column(
    tmp_path, monkeypatch
):
    module = tmp_path / "wide_module.py"
    module.write_text(
        "def narrow():\n    return 1\n\n\n"
        "def wide():\n    return " + " + ".join(["1"] * 30) + "\n",
        encoding="utf-8",
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    import wide_module

    assert "return 1" in show_source(wide_module.narrow).code
    with pytest.raises(ValueError, match=r"wide.*80 columns.*line 2"):
        show_source(wide_module.wide)


def test_show_source_returns_the_real_code_as_markdown():
    shown = show_source(seed_everything)
    assert shown.code.startswith("def seed_everything(")
    assert "torch.manual_seed(seed)" in shown.code
    markdown = shown._repr_markdown_()
    assert markdown.splitlines()[2] == "```python"
    assert "lstm_tutorial.seeding.seed_everything" in markdown


def test_show_source_can_drop_the_docstring():
    with_doc = show_source(tokenize).code
    without = show_source(tokenize, docstring=False).code
    assert '"""' in with_doc and '"""' not in without
    assert without.splitlines()[0].startswith("def tokenize(")
    assert "return _TOKEN.findall(text)" in without


def test_show_source_rejects_things_without_source():
    with pytest.raises(
        ValueError, match="obj must be a function, method or class"
    ):
        show_source(42)


def test_use_book_style_sets_the_shared_rcparams():
    with mpl.rc_context():
        mpl.rcParams["axes.grid"] = False
        use_book_style()
        assert mpl.rcParams["axes.grid"] is True
        assert mpl.rcParams["axes.spines.top"] is False


def test_tokenize_splits_words_and_punctuation():
    assert tokenize("It barks very loudly.") == [
        "It",
        "barks",
        "very",
        "loudly",
        ".",
    ]
    assert tokenize(PROMPT)[-2:] == ["puppy", "."]


@pytest.mark.parametrize("bad", ["", "   ", "It has 4 legs.", 'He said "hi".'])
def test_tokenize_rejects_empty_or_unknown_characters(bad):
    with pytest.raises(ValueError, match="text"):
        tokenize(bad)


def test_story_dependencies_point_at_the_words_they_name():
    tokens = tokenize(STORY)
    deps = {
        (tokens[d.dependent], tokens[d.antecedent]): d
        for d in story_dependencies(tokens)
    }
    assert deps[("barks", "It")].distance == 1
    assert deps[("Luna", "puppy")].distance == tokens.index(
        "Luna"
    ) - tokens.index("puppy")
    assert deps[("They", "John")].distance > deps[("They", "Mary")].distance
    assert all(
        isinstance(d, Dependency) and d.distance > 0 for d in deps.values()
    )
    # Getting started's exercise solution names the longest dependency and its length.
    longest = max(deps.values(), key=lambda d: d.distance)
    assert (tokens[longest.dependent], tokens[longest.antecedent]) == (
        "They",
        "John",
    )
    assert longest.distance == 11
    # only the present-tense verb agrees with its subject
    assert [k for k, d in deps.items() if d.reason.startswith("agreement")] == [
        ("barks", "It")
    ]


def test_story_dependencies_fail_loudly_when_a_word_is_missing():
    with pytest.raises(ValueError, match="no occurrence"):
        story_dependencies(tokenize("John gave Mary a kitten."))


@pytest.mark.parametrize("words", [16, 40])
def test_plot_dependencies_fits_the_column_with_text_of_9_pt_or_more(words):
    tokens = (tokenize(STORY) * 3)[:words]
    with mpl.rc_context():
        use_book_style()
        fig = plot_dependencies(tokens, story_dependencies(tokens)).figure
        fig.canvas.draw()
        width = max(fig.get_size_inches()[0], fig.get_tightbbox().width)
        sizes = [
            t.get_fontsize()
            for t in fig.findobj(matplotlib.text.Text)
            if t.get_text()
        ]
        plt.close(fig)
    assert width <= 10.4 and min(sizes) >= 9
