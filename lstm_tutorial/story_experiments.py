"""The multi-seed story experiments of Part III: the word LMs of
:mod:`lstm_tutorial.word_lm` on plain and on hard puppy stories.

:func:`train_story_run` trains one :class:`~lstm_tutorial.word_lm.StoryLMConfig` from a plain
config dict (``task="story_lm"``, ``model``, ``seed``, ``lr`` and any other field of the
config) and tests it on held-out stories: the probes at every distance (counts of right
answers, so that intervals can be drawn), the perplexity, and the best perplexity any model
can reach on those stories (:func:`lstm_tutorial.stories.best_perplexity`).
:func:`story_tuning` and :func:`story_runs` are the grids that ``make experiments`` runs
(group ``stories`` of :data:`lstm_tutorial.experiments.GROUPS`).

Checks: :func:`train_story_run` checks its config (by building the StoryLMConfig, which
checks every field) before training; :func:`story_size` its cell.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Mapping
from typing import Any

import numpy as np

from lstm_tutorial import checks
from lstm_tutorial.stories import best_perplexity, generate_stories
from lstm_tutorial.variants import (
    count_parameters,
    make_recurrent,
    matching_hidden_size,
)
from lstm_tutorial.word_lm import (
    LR_GRID,
    StoryLMConfig,
    WordVocab,
    encode_stories,
    perplexity,
    score_probes,
    story_options,
    train_story_lm,
)

#: The Part III story models: the LSTM's size; the GRU and the RNN get as many weights.
LSTM_HIDDEN = 128
EMBED = 32
#: Test stories per distance, drawn with seed ``TEST_SEED + distance``.
TEST_PER_DISTANCE = 80
TEST_SEED = 100
#: The hard stories: a second named animal, and one attractor noun before the verb.
HARD = {"distractor": True, "attractors": 1, "min_distance": 1}
#: Start: +2 on the LSTM's forget-gate and the GRU's update-gate bias (Part III).
KEEP_BIAS = 2.0
#: The models compared on the stories.
STORY_MODELS = ("lstm", "gru", "rnn")
#: The StoryLMConfig fields a story run may set besides cell, seed and lr.
_FIELDS = tuple(
    f
    for f in StoryLMConfig.__dataclass_fields__
    if f not in ("cell", "seed", "lr")
)


def story_size(cell: str) -> int:
    """The hidden size of ``cell`` whose recurrent layer has as many weights as the LSTM's
    of size :data:`LSTM_HIDDEN` (input size :data:`EMBED`)."""
    checks.choice("cell", cell, ("lstm", "gru", "rnn"))
    if cell == "lstm":
        return LSTM_HIDDEN
    reference = count_parameters(make_recurrent("lstm", EMBED, LSTM_HIDDEN))
    return matching_hidden_size(cell, EMBED, reference)


def story_run_config(model: str, seed: int, lr: float, **fields: Any) -> dict:
    """The config dict of one story run (checked by building its StoryLMConfig); ``fields``
    are other fields of the StoryLMConfig."""
    checks.choice("model", model, STORY_MODELS)
    checks.no_unknown_keys("fields", fields, _FIELDS)
    config = {
        "task": "story_lm",
        "model": model,
        "T": None,
        "seed": seed,
        "lr": lr,
        "hidden_size": story_size(model),
        "embed_size": EMBED,
        "keep_bias": KEEP_BIAS if model != "rnn" else 0.0,
        **fields,
    }
    _story_lm_config(config)
    return config


def _story_lm_config(config: Mapping[str, Any]) -> StoryLMConfig:
    checks.mapping("config", config)
    checks.choice("config['task']", config.get("task"), ("story_lm",))
    fields = {
        k: v for k, v in config.items() if k not in ("task", "model", "T")
    }
    return StoryLMConfig(cell=config["model"], **fields)


def test_stories(config: StoryLMConfig) -> list:
    """The held-out stories of ``config``'s kind: :data:`TEST_PER_DISTANCE` at every
    distance, drawn with seeds the training data does not use."""
    options = story_options(config)
    distances = options.pop("distances")
    return [
        s
        for d in distances
        for s in generate_stories(
            TEST_PER_DISTANCE, d, seed=TEST_SEED + d, **options
        )
    ]


def train_story_run(config: Mapping[str, Any]) -> dict:
    """Train the story LM of ``config`` (not cached) and test it. Returns plain data:
    ``loss`` and ``val_ppl`` (validation), ``test_ppl``, ``bound_ppl`` and
    ``bound_forget_ppl`` (the best perplexity on the test stories of a model that knows
    the generator, and of one that also forgets every name), ``agreement`` and ``recall``
    (shares right on the test stories), ``by_distance`` (distance, count and the numbers
    right of each probe), ``parameters``, ``seconds_per_epoch``."""
    import torch

    story_config = _story_lm_config(config)
    torch.set_num_threads(1)
    vocab = WordVocab.from_story_vocab()
    with tempfile.TemporaryDirectory() as directory:
        model, history = train_story_lm(
            story_config, directory=directory, log=None
        )
    test = test_stories(story_config)
    scores = score_probes(model, vocab, test)
    distances = np.unique(scores["distance"])
    options = story_options(story_config)
    bound = best_perplexity(test, options["distances"])
    val_ppl = float(history.metrics["val ppl"][-1])
    return {
        "loss": math.log(val_ppl),
        "val_ppl": val_ppl,
        "test_ppl": float(perplexity(model, encode_stories(test, vocab))),
        "bound_ppl": float(bound),
        "bound_forget_ppl": float(
            best_perplexity(test, options["distances"], remember_names=False)
        ),
        "agreement": float(scores["agreement"].mean()),
        "recall": float(scores["recall"].mean()),
        "by_distance": {
            "distance": distances.tolist(),
            "count": [int((scores["distance"] == d).sum()) for d in distances],
            **{
                kind: [
                    int(scores[kind][scores["distance"] == d].sum())
                    for d in distances
                ]
                for kind in ("agreement", "recall")
            },
        },
        "parameters": count_parameters(model.recurrent),
        "seconds_per_epoch": float(np.mean(history.seconds)),
    }


TUNE_SEEDS = (100, 101)
#: The learning rates tried for the story models: the word_lm grid and one smaller rate.
STORY_LR_GRID = (3e-4, *LR_GRID)


def story_tuning() -> list[dict]:
    """Every model at every rate of :data:`lstm_tutorial.word_lm.LR_GRID`, two tuning
    seeds, on the plain stories; scored by validation perplexity."""
    return [
        story_run_config(model, seed, lr)
        for model in STORY_MODELS
        for lr in STORY_LR_GRID
        for seed in TUNE_SEEDS
    ]


def story_runs(rates: Mapping[tuple[str, str], float]) -> list[dict]:
    """The reported runs: five seeds of every model on plain and on hard stories; the RNN
    and the LSTM trained on distance-0 stories only; the LSTM with three times the epochs."""
    from lstm_tutorial.experiments import SEEDS

    checks.mapping("rates", rates)
    missing = [m for m in STORY_MODELS if ("story_lm", m) not in rates]
    if missing:
        raise ValueError(
            f"rates lacks the tuned rate of {missing} (keys ('story_lm', model))"
        )
    configs = []
    for kind in ({}, HARD):
        for model in STORY_MODELS:
            lr = rates["story_lm", model]
            configs += [
                story_run_config(model, seed, lr, **kind) for seed in SEEDS
            ]
    for model in (
        "rnn",
        "lstm",
    ):  # can it learn the name when there is no gap to bridge?
        lr = rates["story_lm", model]
        configs += [
            story_run_config(model, seed, lr, max_distance=0) for seed in SEEDS
        ]
    lr = rates["story_lm", "lstm"]
    configs += [
        story_run_config("lstm", seed, lr, epochs=21) for seed in SEEDS[:3]
    ]
    return configs
