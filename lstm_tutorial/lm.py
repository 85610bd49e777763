"""Train a language model on your own text, and sample from it: the command line.

::

    python -m lstm_tutorial.lm train my_text.txt            # a model in a few minutes
    python -m lstm_tutorial.lm sample ~/.cache/lstm_tutorial/lm/my_text.pt --prompt "The"

``python -m lstm_tutorial.lm train --help`` lists every option. The model, its training
and its config are those of :mod:`lstm_tutorial.textlm` (re-exported here); this module
adds the checkpoints (:func:`save_lm`, :func:`load_lm`, by default in the user's cache
folder, :func:`default_lm_dir`, never in the repository), sampling through the decoders of
:mod:`lstm_tutorial.decoding` (:class:`StepAdapter`, :func:`sample_text`) and the
command line itself (:func:`main`). Training shows a tqdm bar in a terminal and one line
per epoch; Ctrl-C saves the model as it is and says where.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections.abc import Sequence
from dataclasses import fields
from pathlib import Path

import numpy as np
import torch

from lstm_tutorial import checks, decoding
from lstm_tutorial.chardata import load_text
from lstm_tutorial.text import LEVELS, Vocab, join_tokens, tokenize
from lstm_tutorial.textlm import (  # noqa: F401 - the model's API, re-exported
    CELLS,
    DROPOUTS,
    SCHEDULES,
    LMConfig,
    LMOutput,
    Setup,
    TextLM,
    build_model,
    detach_state,
    evaluate,
    fit_lm,
    fit_options,
    lm_loss,
    one_cycle,
    prepare,
    setup,
    train_text_lm,
)
from lstm_tutorial.training import (
    History,
    default_device,
    load_checkpoint,
    model_device,
    save_checkpoint,
)

#: Environment variable that overrides :func:`default_lm_dir`.
LM_DIR_ENV = "LSTM_TUTORIAL_LM_DIR"


# ------------------------------------------------------------------ checkpoints


def default_lm_dir() -> Path:
    """``$LSTM_TUTORIAL_LM_DIR`` if set, else ``lstm_tutorial/lm`` in the user's cache
    folder (``$XDG_CACHE_HOME``, else ``~/.cache``): never inside the repository."""
    if os.environ.get(LM_DIR_ENV):
        return Path(os.environ[LM_DIR_ENV])
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "lstm_tutorial" / "lm"


def save_lm(
    path,
    model: TextLM,
    vocab: Vocab,
    config: LMConfig,
    history: History | None = None,
) -> Path:
    """A sealed checkpoint of the model with its vocabulary and config."""
    checks.instance("model", model, TextLM, "a TextLM")
    checks.instance("vocab", vocab, Vocab, "a Vocab")
    checks.instance("config", config, LMConfig, "an LMConfig")
    checks.optional(
        checks.instance, "history", history, kind=History, expected="a History"
    )
    _check_belong_together(model, vocab, config)
    path = _file_path("path", path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {
        "lm": config.to_dict(),
        "tokens": list(vocab.tokens),
        "unk": vocab.unk,
    }
    return save_checkpoint(path, model, config=data, history=history)


def _file_path(name: str, value) -> Path:
    """A path that may name a file: not empty, not an existing folder."""
    path = checks.path(name, value)
    if path.is_dir():
        raise ValueError(f"{name} must name a file, but {path} is a folder")
    return path


def _check_belong_together(
    model: TextLM, vocab: Vocab, config: LMConfig | None
) -> None:
    """The vocabulary and the config are those of the model: same number of tokens, same
    parameter shapes (a checkpoint of a mismatched triple would not load)."""
    size = model.embedding.num_embeddings
    if vocab.size != size:
        raise ValueError(
            f"vocab has {vocab.size} tokens but the model reads {size}: give the "
            "vocabulary the model was trained with"
        )
    if config is None:
        return
    # on the meta device: shapes only, no memory, no random numbers drawn
    with torch.device("meta"):
        expected = build_model(config, size).state_dict()
    got = model.state_dict()
    differ = sorted(
        k
        for k in expected.keys() | got.keys()
        if k not in expected
        or k not in got
        or expected[k].shape != got[k].shape
    )
    if differ:
        raise ValueError(
            f"config does not describe the model: their parameters {differ[:3]} "
            "differ (cell, layers, embed_size, hidden_size, tie_weights); give the "
            "config the model was built from"
        )


def load_lm(path, device=None) -> tuple[TextLM, Vocab, LMConfig, History]:
    """Model, vocabulary, config and history from a :func:`save_lm` file; a damaged
    file is a :class:`lstm_tutorial.store.CorruptFile` naming it."""
    path = _file_path("path", path)
    if not path.is_file():
        raise FileNotFoundError(f"path names no checkpoint file: {path}")
    device = checks.torch_device("device", device) or torch.device("cpu")
    stored = load_checkpoint(path)
    from lstm_tutorial.store import CorruptFile

    try:
        config = LMConfig.from_dict(stored["config"]["lm"])
        vocab = Vocab(
            tuple(stored["config"]["tokens"]), unk=stored["config"]["unk"]
        )
    except (KeyError, TypeError, ValueError) as err:
        raise CorruptFile(
            f"{path} is not a language-model checkpoint of lm.save_lm ({err})"
        ) from None
    model = build_model(config, vocab.size)
    load_checkpoint(path, model)
    return model.to(device).eval(), vocab, config, stored["history"]


# ---------------------------------------------------------------------- sampling


class StepAdapter:
    """A :class:`TextLM` behind the step interface of :mod:`lstm_tutorial.decoding`, so
    that Part II's greedy decoding, sampling and beam search run on it unchanged."""

    def __init__(self, model: TextLM) -> None:
        self.model = checks.instance("model", model, TextLM, "a TextLM").eval()
        self.vocab_size = model.embedding.num_embeddings
        self.device = model_device(model)

    def start_state(self, batch_size: int):
        checks.positive_int("batch_size", batch_size)
        return None

    @torch.no_grad()
    def step(self, ids, state):
        checks.ids("ids", _numpy(ids), self.vocab_size, ndim=1)
        x = torch.as_tensor(np.asarray(ids), dtype=torch.int64)
        out = self.model(x.to(self.device)[:, None], state)
        logp = torch.log_softmax(out.logits[:, -1].double(), dim=-1)
        return logp.cpu().numpy(), out.state

    def select_state(self, state, rows):
        batch_size = self._check_state(state)
        rows = _numpy(rows)
        decoding._check_rows(
            np.asarray(rows) if isinstance(rows, list | tuple) else rows,
            batch_size,
        )
        index = torch.as_tensor(np.asarray(rows), device=self.device)
        return [_rows(s, index) for s in state]

    def _check_state(self, state) -> int:
        """The state of :meth:`step` (one entry per layer: (h, c) for an LSTM, h
        otherwise, each (1, B, H)); returns B."""
        layers = self.model.num_layers
        checks.sequence("state", state)
        if len(state) != layers:
            raise ValueError(
                f"state must hold one entry per layer ({layers}), got {len(state)}: "
                "pass what step returned"
            )
        batch_size = None
        for k, entry in enumerate(state):
            parts = entry if isinstance(entry, tuple) and entry else (entry,)
            for part in parts:
                checks.tensor(f"state[{k}]", part, ndim=3)
                if batch_size is not None and part.shape[1] != batch_size:
                    raise ValueError(
                        f"state[{k}] holds {part.shape[1]} sequences, state[0] "
                        f"{batch_size}: pass what step returned"
                    )
                batch_size = part.shape[1]
        return batch_size


def _numpy(value):
    """A tensor as a NumPy array (for the checks); anything else as it is."""
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    return value


def _rows(state, index):
    if isinstance(state, tuple):
        return tuple(s[:, index] for s in state)
    return state[:, index]


def sample_text(
    model: TextLM,
    vocab: Vocab,
    prompt: str,
    *,
    level: str,
    length: int = 200,
    temperature: float = 1.0,
    top_k: int | None = None,
    seed: int = 0,
) -> str:
    """The prompt and ``length`` sampled tokens after it, as text."""
    checks.instance("model", model, TextLM, "a TextLM")
    checks.instance("vocab", vocab, Vocab, "a Vocab")
    _check_belong_together(model, vocab, None)
    checks.string("prompt", prompt)
    checks.choice("level", level, LEVELS)
    checks.seed("seed", seed)
    prompt_tokens = tokenize(prompt, level)
    if not prompt_tokens:
        raise ValueError(f"prompt {prompt!r} holds no {level} token")
    unknown = sorted({t for t in prompt_tokens if t not in vocab.index})
    if unknown and vocab.unk is None:
        raise ValueError(
            f"prompt holds {level} tokens the vocabulary does not know, "
            f"{unknown[:5]}, and it has no unk token to stand for them"
        )
    ids = vocab.encode(prompt_tokens).numpy()
    out = decoding.sample(
        StepAdapter(model),
        ids,
        length,
        rng=np.random.default_rng(checks.seed("seed", seed)),
        temperature=temperature,
        top_k=top_k,
    )
    return join_tokens(prompt_tokens + vocab.decode(out), level)


# ------------------------------------------------------------------ command line


def _parser() -> argparse.ArgumentParser:
    d = LMConfig()
    parser = argparse.ArgumentParser(
        prog="python -m lstm_tutorial.lm",
        description="Train a language model on your own text, or sample from one.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train", help="train on a UTF-8 text file")
    t.add_argument("textfile", help="the text to learn (UTF-8)")
    t.add_argument("--level", choices=LEVELS, default=d.level)
    t.add_argument("--cell", choices=tuple(CELLS), default=d.cell)
    t.add_argument("--layers", type=int, default=d.layers)
    t.add_argument("--hidden-size", type=int, default=d.hidden_size)
    t.add_argument("--embed-size", type=int, default=d.embed_size)
    t.add_argument("--seq-len", type=int, default=d.seq_len)
    t.add_argument("--batch-size", type=int, default=d.batch_size)
    t.add_argument("--epochs", type=int, default=d.epochs)
    t.add_argument("--lr", type=float, default=d.lr)
    t.add_argument("--schedule", choices=SCHEDULES, default=d.schedule)
    t.add_argument(
        "--dropout",
        type=float,
        default=d.dropout,
        help="every dropout below that is not given (default %(default)s)",
    )
    for name in DROPOUTS:
        t.add_argument("--" + name.replace("_", "-"), type=float, default=None)
    t.add_argument("--tie-weights", action="store_true")
    t.add_argument("--ar", type=float, default=d.ar)
    t.add_argument("--tar", type=float, default=d.tar)
    t.add_argument("--weight-decay", type=float, default=d.weight_decay)
    t.add_argument("--clip-norm", type=float, default=d.clip_norm)
    t.add_argument("--min-count", type=int, default=d.min_count)
    t.add_argument(
        "--valid-fraction",
        type=float,
        default=d.valid_fraction,
        help="the last F of the text is the validation text",
    )
    t.add_argument("--seed", type=int, default=d.seed)
    t.add_argument(
        "--device",
        default=None,
        help="cpu, cuda, ... (default: cuda if there is one)",
    )
    t.add_argument(
        "--checkpoint",
        default=None,
        help=f"where to save (default: {default_lm_dir()}/NAME.pt)",
    )
    t.add_argument(
        "--metrics-out",
        default=None,
        help="write the final validation metrics here as JSON",
    )
    s = sub.add_parser("sample", help="continue a prompt with a trained model")
    s.add_argument("checkpoint")
    s.add_argument("--prompt", default=None, help="default: the first token")
    s.add_argument("--length", type=int, default=300)
    s.add_argument("--temperature", type=float, default=0.8)
    s.add_argument("--top-k", type=int, default=None)
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--device", default=None)
    return parser


def _config_from_args(args: argparse.Namespace) -> LMConfig:
    names = {f.name for f in fields(LMConfig)}
    return LMConfig(**{k: v for k, v in vars(args).items() if k in names})


def _train_command(args: argparse.Namespace) -> int:
    config = _config_from_args(args)
    device = checks.torch_device("--device", args.device) or default_device()
    text = load_text(args.textfile)
    path = (
        Path(args.checkpoint)
        if args.checkpoint
        else (default_lm_dir() / f"{Path(args.textfile).stem}.pt")
    )
    checks.path("--checkpoint", path)
    s = setup(text, config, device)
    print(
        f"{len(text):,} characters: {s.train.targets:,} training and "
        f"{s.valid.targets:,} validation {config.level} tokens read, "
        f"vocabulary {s.vocab.size:,}, on {device}"
    )
    history = History()
    try:
        fit_lm(
            s.model,
            s.train,
            valid=s.valid,
            history=history,
            progress=sys.stderr.isatty(),
            **fit_options(config),
        )
    except KeyboardInterrupt:
        save_lm(path, s.model, s.vocab, config, history)
        print(
            f"\ninterrupted after {history.epochs} full epochs; the model as "
            f"it is now is saved in {path}",
            file=sys.stderr,
        )
        return 130
    save_lm(path, s.model, s.vocab, config, history)
    print(f"saved {path}")
    metrics = final_metrics(history, config, s.vocab)
    for key, value in metrics.items():
        shown = f"{value:.4g}" if isinstance(value, float) else value
        print(f"  {key}: {shown}")
    if args.metrics_out:
        Path(args.metrics_out).write_text(json.dumps(metrics, indent=2) + "\n")
    return 0


def final_metrics(history: History, config: LMConfig, vocab: Vocab):
    """The last epoch's validation numbers, as the command line reports them."""
    checks.instance("history", history, History, "a History")
    checks.instance("config", config, LMConfig, "an LMConfig")
    checks.instance("vocab", vocab, Vocab, "a Vocab")
    if not history.val_loss or not history.metrics.get("accuracy"):
        raise ValueError(
            "history must hold at least one epoch with a validation loss and "
            "accuracy (fit_lm(..., valid=...)), got "
            f"{len(history.val_loss)} validation losses"
        )
    loss = history.val_loss[-1]
    return {
        "level": config.level,
        "valid_loss": loss,
        "perplexity": math.exp(loss),
        "bits_per_token": loss / math.log(2),
        "accuracy": history.metrics["accuracy"][-1],
        "epochs": history.epochs,
        "seconds": sum(history.seconds),
        "vocab_size": vocab.size,
    }


def _sample_command(args: argparse.Namespace) -> int:
    device = checks.torch_device("--device", args.device) or default_device()
    model, vocab, config, _ = load_lm(args.checkpoint, device)
    specials = {vocab.unk, vocab.pad, vocab.eos}
    first = next(t for t in vocab.tokens if t not in specials)
    prompt = args.prompt if args.prompt is not None else first
    print(
        sample_text(
            model,
            vocab,
            prompt,
            level=config.level,
            length=args.length,
            temperature=args.temperature,
            top_k=args.top_k,
            seed=args.seed,
        )
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    if argv is not None:
        checks.sequence("argv", argv, empty=True)
        for k, arg in enumerate(argv):
            checks.string(f"argv[{k}]", arg, empty=True)
    args = _parser().parse_args(argv)
    try:
        if args.command == "train":
            return _train_command(args)
        return _sample_command(args)
    except (ValueError, TypeError, FileNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
