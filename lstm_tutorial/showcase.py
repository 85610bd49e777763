"""The trained character models Part V's chapters read: recorded runs, kept with their weights.

Two runs are kept (:data:`KEPT`), each the LSTM of its group with the protocol's first
seed, at its tuned rate (:func:`showcase_record`): ``"cells"``, the showcase, of group
``textlm_cells`` (one layer of 256), which chapters 2, 4 and 5 study; and ``"large"``, of
group ``textlm_large`` (two layers of 384), which chapter 2 measures against the
baselines. ``make experiments`` ends with ``python -m lstm_tutorial.showcase``, which
trains each run's config again (a run repeats exactly: it is seeded and
single-threaded), checks that it reproduces the recorded test loss, and saves the model
with its vocabulary and config beside the records (:data:`PATHS`; a sealed checkpoint of
:func:`lstm_tutorial.lm.save_lm`). The chapters load it with :func:`load_showcase`, so
that a page can study a model that took minutes to train without training it; a test
evaluates it on the test text and checks the recorded number again.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lstm_tutorial import checks
from lstm_tutorial.chardata import python_docs_text
from lstm_tutorial.experiments import (
    RECORDS_DIR,
    SEEDS,
    load_records,
    same_data_python,
)
from lstm_tutorial.lm import load_lm, save_lm
from lstm_tutorial.text import Vocab, tokenize
from lstm_tutorial.textlm import LMConfig, TextLM, evaluate
from lstm_tutorial.textlm_experiments import (
    Heldout,
    eval_batches,
    heldout,
    train_textlm_model,
)

#: The kept runs: name -> (group, model, seed).
KEPT = {
    "cells": ("textlm_cells", "lstm", SEEDS[0]),
    "large": ("textlm_large", "lstm", SEEDS[0]),
}
#: Where each is kept, beside the records.
PATHS = {
    "cells": RECORDS_DIR / "textlm_showcase.pt",
    "large": RECORDS_DIR / "textlm_large.pt",
}
#: The showcase, the kept run the chapters study by default.
SHOWCASE = KEPT["cells"]
SHOWCASE_PATH = PATHS["cells"]


def _name(name: str) -> str:
    return checks.choice("name", name, tuple(KEPT))


def showcase_record(name: str = "cells") -> dict:
    """The recorded run of ``KEPT[name]``: ``{"config", "metrics", "seconds"}``."""
    group, model, seed = KEPT[_name(name)]
    runs = load_records(group)["runs"]
    for run in runs:
        config = run["config"]
        if config["model"] == model and config["seed"] == seed:
            return run
    raise ValueError(
        f"the records of {group} hold no run of {model} seed {seed}"
    )


def make_showcase(
    path: str | Path | None = None,
    *,
    name: str = "cells",
    log: Callable[[str], None] | None = print,
) -> Path:
    """Train the kept run ``name`` again, check it against its record, save it to
    ``path`` (default ``PATHS[name]``). A file that already holds the recorded
    config, and reproduces the recorded test loss, is kept."""
    name = _name(name)
    path = checks.path("path", PATHS[name] if path is None else path)
    if path.is_dir():
        raise ValueError(f"path must name a file, but {path} is a folder")
    checks.optional(checks.function, "log", log)
    record = showcase_record(name)
    group = KEPT[name][0]
    config = LMConfig.from_dict(record["config"]["lm"])
    if path.exists():
        try:
            model, vocab, saved, _ = load_lm(path)
            if saved == config and not same_data_python(load_records(group)):
                if log is not None:
                    log(
                        f"{path.name} holds the recorded config; its test loss"
                        " is not checked on this Python, whose help topics"
                        " differ from the recording's"
                    )
                return path
            if saved == config and math.isclose(
                test_loss(model, config, vocab),
                record["metrics"]["test_loss"],
                rel_tol=1e-4,
            ):
                if log is not None:
                    log(f"{path.name} already holds the recorded run")
                return path
            if log is not None:
                log(
                    f"{path.name} holds another run than the record's;"
                    " training it again"
                )
        except (ValueError, OSError) as err:
            if log is not None:
                log(f"{path.name} cannot be used ({err}); training it again")
    if not same_data_python(load_records(group)):
        raise ValueError(
            f"the kept run {name!r} was recorded on another Python minor version, whose"
            " help topics differ from this one's: run `make experiments` on this"
            " Python to record it again"
        )
    model, metrics = train_textlm_model(record["config"])
    old, new = record["metrics"]["test_loss"], metrics["test_loss"]
    if not math.isclose(old, new, rel_tol=1e-4):
        raise RuntimeError(
            f"the kept run {name!r} did not reproduce its record: test loss {new:.6f}, "
            f"recorded {old:.6f}"
        )
    vocab = heldout(config.level, config.min_count).vocab
    save_lm(path, model, vocab, config)
    if log is not None:
        log(f"saved {path} (test loss {new:.4f} nats, as recorded)")
    return path


def load_showcase(
    path: str | Path | None = None, *, name: str = "cells"
) -> tuple[Any, Any, LMConfig]:
    """The kept model ``name`` (eval mode, CPU; from ``path``, default
    ``PATHS[name]``), its vocabulary and its config."""
    name = _name(name)
    path = checks.path("path", PATHS[name] if path is None else path)
    if not path.exists():
        raise FileNotFoundError(
            f"no showcase model at {path}: run `make experiments` (or "
            "`python -m lstm_tutorial.showcase`) to make it"
        )
    model, vocab, config, _ = load_lm(path)
    return model, vocab, config


def showcase_text(vocab: Vocab, config: LMConfig) -> Heldout:
    """This Python's help topics, split as the showcase run split its text and
    encoded with the model's own ``vocab`` (from :func:`load_showcase`).

    On the Python minor version that recorded the run this is exactly
    ``heldout(config.level, config.min_count)``. Another version ships other help
    topics (3.12's and 3.13's hold a ``$``, which 3.11's do not): the tokens that
    ``vocab`` cannot encode are left out, so that the model can read the text, and
    the numbers then describe this Python's text, not the recorded one."""
    checks.instance("vocab", vocab, Vocab, "a Vocab (from load_showcase)")
    checks.instance("config", config, LMConfig, "an LMConfig")
    tokens = tokenize(python_docs_text(), config.level)
    if vocab.unk is None:
        tokens = [t for t in tokens if t in vocab.index]
    a, b = round(0.8 * len(tokens)), round(0.9 * len(tokens))
    ids = vocab.encode(tokens)
    return Heldout(vocab, ids[:a], ids[a:b], ids[b:])


def test_loss(
    model: Any, config: LMConfig, vocab: Vocab | None = None
) -> float:
    """The model's loss on the test text, read as the recorded run read it; with
    the model's ``vocab``, on :func:`showcase_text` (any Python)."""
    checks.instance("model", model, TextLM, "a TextLM")
    checks.instance("config", config, LMConfig, "an LMConfig")
    if vocab is None:
        data = heldout(config.level, config.min_count)
    else:
        data = showcase_text(vocab, config)
    size = model.embedding.num_embeddings
    if size != data.vocab.size:
        raise ValueError(
            f"model reads {size} tokens, but config's text has a vocabulary of "
            f"{data.vocab.size}: give the model that config trained"
        )
    return evaluate(model, eval_batches(data.test, config))["loss"]


def main(argv: list[str] | None = None) -> int:
    checks.argv("argv", argv)
    parser = argparse.ArgumentParser(
        prog="python -m lstm_tutorial.showcase",
        description="Train the recorded kept runs again and save their models.",
    )
    parser.add_argument(
        "--name",
        choices=tuple(KEPT),
        default=None,
        help="only this kept run (default: every one)",
    )
    parser.add_argument(
        "--path", default=None, help="where to save (only with --name)"
    )
    args = parser.parse_args(argv)
    if args.path is not None and args.name is None:
        parser.error("--path needs --name: which kept run to save there")
    for name in (args.name,) if args.name else tuple(KEPT):
        make_showcase(args.path, name=name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
