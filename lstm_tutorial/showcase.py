"""The trained character model Part V's chapters read: one recorded run, kept with its weights.

The run is the LSTM of group ``textlm_cells`` with the protocol's first seed, at its tuned
rate (:func:`showcase_record`). ``make experiments`` ends with ``python -m
lstm_tutorial.showcase``, which trains that run's config again (a run repeats exactly: it
is seeded and single-threaded), checks that it reproduces the recorded test loss, and saves
the model with its vocabulary and config to :data:`SHOWCASE_PATH` (a sealed checkpoint of
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

#: Where the model is kept, beside the records.
SHOWCASE_PATH = RECORDS_DIR / "textlm_showcase.pt"
#: Which recorded run it is: (group, model, seed).
SHOWCASE = ("textlm_cells", "lstm", SEEDS[0])


def showcase_record() -> dict:
    """The recorded run of :data:`SHOWCASE`: ``{"config", "metrics", "seconds"}``."""
    group, model, seed = SHOWCASE
    runs = load_records(group)["runs"]
    for run in runs:
        config = run["config"]
        if config["model"] == model and config["seed"] == seed:
            return run
    raise ValueError(
        f"the records of {group} hold no run of {model} seed {seed}"
    )


def make_showcase(
    path: str | Path = SHOWCASE_PATH,
    *,
    log: Callable[[str], None] | None = print,
) -> Path:
    """Train the showcase run again, check it against its record, save it to ``path``.
    A file that already holds the recorded config, and reproduces the recorded test
    loss, is kept."""
    path = checks.path("path", path)
    if path.is_dir():
        raise ValueError(f"path must name a file, but {path} is a folder")
    checks.optional(checks.function, "log", log)
    record = showcase_record()
    group = SHOWCASE[0]
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
            "the showcase run was recorded on another Python minor version, whose"
            " help topics differ from this one's: run `make experiments` on this"
            " Python to record it again"
        )
    model, metrics = train_textlm_model(record["config"])
    old, new = record["metrics"]["test_loss"], metrics["test_loss"]
    if not math.isclose(old, new, rel_tol=1e-4):
        raise RuntimeError(
            f"the showcase run did not reproduce its record: test loss {new:.6f}, "
            f"recorded {old:.6f}"
        )
    vocab = heldout(config.level, config.min_count).vocab
    save_lm(path, model, vocab, config)
    if log is not None:
        log(f"saved {path} (test loss {new:.4f} nats, as recorded)")
    return path


def load_showcase(
    path: str | Path = SHOWCASE_PATH,
) -> tuple[Any, Any, LMConfig]:
    """The showcase model (eval mode, CPU), its vocabulary and its config."""
    path = checks.path("path", path)
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
    if argv is not None:
        checks.sequence("argv", argv, empty=True)
        for k, arg in enumerate(argv):
            checks.string(f"argv[{k}]", arg, empty=True)
    parser = argparse.ArgumentParser(
        prog="python -m lstm_tutorial.showcase",
        description="Train the recorded showcase run again and save its model.",
    )
    parser.add_argument("--path", default=str(SHOWCASE_PATH))
    args = parser.parse_args(argv)
    make_showcase(args.path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
