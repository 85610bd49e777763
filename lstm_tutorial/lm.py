"""Train a language model on your own text, and sample from it: the command line.

::

    python -m lstm_tutorial.lm train my_text.txt            # a model in a few minutes
    python -m lstm_tutorial.lm sample ~/.cache/lstm_tutorial/lm/my_text.pt --prompt "The"
    python -m lstm_tutorial.lm train ptb.train.txt --level word --split whitespace \
        --valid-file ptb.valid.txt                           # a pre-tokenized corpus
    python -m lstm_tutorial.lm evaluate ~/.cache/lstm_tutorial/lm/ptb.train.pt ptb.test.txt

``python -m lstm_tutorial.lm train --help`` lists every option. The model, its training
and its config are those of :mod:`lstm_tutorial.textlm` (re-exported here); this module
adds the checkpoints (:func:`save_lm`, :func:`load_lm`, by default in the user's cache
folder, :func:`default_lm_dir`, never in the repository), pre-tokenized corpora and
separate validation files (:func:`corpus_tokens`, :func:`prepare_files`,
:func:`setup_files`), the numbers of a trained model on a test file
(:func:`evaluate_text`), sampling through the decoders of :mod:`lstm_tutorial.decoding`
(:class:`StepAdapter`, :func:`sample_text`) and the command line itself (:func:`main`).
Training shows a tqdm bar in a terminal and one line per epoch; Ctrl-C saves the model as
it is and says where.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections.abc import Sequence
from dataclasses import fields, replace
from pathlib import Path

import numpy as np
import torch

from lstm_tutorial import checks, decoding
from lstm_tutorial.chardata import load_text
from lstm_tutorial.seeding import seed_everything
from lstm_tutorial.text import (
    LEVELS,
    UNK,
    StreamBatches,
    Vocab,
    join_tokens,
    split_stream,
    tokenize,
)
from lstm_tutorial.textlm import (  # noqa: F401 - the model's API, re-exported
    CELLS,
    DROPOUTS,
    SCHEDULES,
    LMConfig,
    LMOutput,
    Prepared,
    Setup,
    TextLM,
    _check_fits,
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
#: How a word-level text is cut into tokens: ``"regex"``, by
#: :func:`lstm_tutorial.text.word_tokens` (words, numbers, punctuation marks), or
#: ``"whitespace"``, the file's own tokens, as a pre-tokenized corpus such as the Penn
#: Treebank or WikiText ships them: separated by white space, with :data:`EOS` at the
#: end of every line, and the corpus's own ``<unk>`` as the unknown token.
SPLITS = ("regex", "whitespace")
#: The end-of-line token of the ``"whitespace"`` split.
EOS = "<eos>"
#: The command line's defaults: :class:`~lstm_tutorial.textlm.LMConfig`'s, but a peak
#: learning rate of 1e-2, the best of 3e-3, 1e-2 and 3e-2 with every other default (two
#: layers of 256, four epochs, one-cycle AdamW) on two character texts, measured
#: 2026-12-02: the pydoc help topics and the source of the standard library's ``email``
#: package, which nothing else in the book was tuned on.
CLI_DEFAULTS = replace(LMConfig(), lr=1e-2)


# ---------------------------------------------------------------------- tokens


def corpus_tokens(text: str, level: str, split: str = "regex") -> list[str]:
    """The tokens of ``text``: :func:`lstm_tutorial.text.tokenize` at ``level``, or
    with ``split="whitespace"`` (word level only) every line's white-space-separated
    tokens followed by :data:`EOS`, as the usual Penn Treebank and WikiText setups
    read those corpora (so that perplexities compare with theirs)."""
    checks.string("text", text)
    checks.choice("level", level, LEVELS)
    checks.choice("split", split, SPLITS)
    if split == "regex":
        return tokenize(text, level)
    if level != "word":
        raise ValueError(
            f"split='whitespace' cuts words; it needs level='word', got {level!r}"
        )
    return [t for line in text.splitlines() for t in (*line.split(), EOS)]


def _check_split(split: str, config: LMConfig) -> None:
    checks.choice("split", split, SPLITS)
    if split == "whitespace" and config.level != "word":
        raise ValueError(
            f"split='whitespace' cuts words, but config.level is {config.level!r}:"
            " give a word-level config"
        )


def prepare_files(
    text: str,
    config: LMConfig,
    *,
    valid_text: str | None = None,
    split: str = "regex",
) -> Prepared:
    """:func:`lstm_tutorial.textlm.prepare`, with a validation text of its own (else
    the last ``config.valid_fraction`` of ``text``) and either split. The vocabulary
    comes from the training tokens only; with the whitespace split it holds
    :data:`EOS`, and the corpus's ``<unk>`` is its unknown token."""
    checks.string("text", text)
    checks.instance("config", config, LMConfig, "an LMConfig")
    checks.optional(checks.string, "valid_text", valid_text)
    _check_split(split, config)
    if valid_text is None and split == "regex":
        return prepare(text, config)
    tokens = corpus_tokens(text, config.level, split)
    if valid_text is None:
        valid = None
    else:
        valid = corpus_tokens(valid_text, config.level, split)
        if len(valid) < 2:
            raise ValueError(
                f"valid_text holds {len(valid)} {config.level} tokens, too few to"
                " score (one prediction needs two)"
            )
    if len(tokens) < 4:
        raise ValueError(
            f"text has {len(tokens)} {config.level} tokens, too few to train on"
        )
    cut = (
        len(tokens)
        if valid is not None
        else round(len(tokens) * (1 - config.valid_fraction))
    )
    unk = UNK if config.level == "word" or config.min_count > 1 else None
    eos = EOS if split == "whitespace" else None
    vocab = Vocab.build(
        tokens[:cut], min_count=config.min_count, unk=unk, eos=eos
    )
    rest = tokens[cut:] if valid is None else valid
    if unk is None:
        unseen = sorted(set(rest) - set(vocab.index))
        if unseen:
            vocab = Vocab((*vocab.tokens, *unseen))
    if valid is None:
        train_ids, valid_ids = split_stream(
            vocab.encode(tokens), config.valid_fraction
        )
    else:
        train_ids, valid_ids = vocab.encode(tokens), vocab.encode(valid)
    return Prepared(vocab, train_ids, valid_ids)


def setup_files(
    text: str,
    config: LMConfig,
    *,
    valid_text: str | None = None,
    split: str = "regex",
    device=None,
) -> Setup:
    """:func:`lstm_tutorial.textlm.setup` on :func:`prepare_files`' tokens: the same
    model, seed and batches, the same errors for a text too short."""
    checks.optional(checks.string, "valid_text", valid_text)
    checks.instance("config", config, LMConfig, "an LMConfig")
    _check_split(split, config)
    device = checks.torch_device("device", device)
    if valid_text is None and split == "regex":
        return setup(text, config, device)
    prepared = prepare_files(text, config, valid_text=valid_text, split=split)
    _check_fits(config, prepared)
    device = device or torch.device("cpu")
    seed_everything(config.seed)
    model = build_model(config, prepared.vocab.size).to(device)
    B, T = config.batch_size, config.seq_len
    train = StreamBatches(
        prepared.train_ids, B, T, drop_last=True, device=device
    )
    T_valid = min(T, (len(prepared.valid_ids) - 1) // B)
    valid = StreamBatches(prepared.valid_ids, B, T_valid, device=device)
    return Setup(model, prepared.vocab, train, valid)


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
    *,
    split: str = "regex",
) -> Path:
    """A sealed checkpoint of the model with its vocabulary, config and the
    ``split`` its text was cut with (:data:`SPLITS`)."""
    checks.instance("model", model, TextLM, "a TextLM")
    checks.instance("vocab", vocab, Vocab, "a Vocab")
    checks.instance("config", config, LMConfig, "an LMConfig")
    checks.optional(
        checks.instance, "history", history, kind=History, expected="a History"
    )
    _check_split(split, config)
    _check_belong_together(model, vocab, config)
    path = _file_path("path", path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {
        "lm": config.to_dict(),
        "tokens": list(vocab.tokens),
        "unk": vocab.unk,
        "eos": vocab.eos,
        "split": split,
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
            tuple(stored["config"]["tokens"]),
            unk=stored["config"]["unk"],
            eos=stored["config"].get("eos"),
        )
        checks.choice("split", stored["config"].get("split", "regex"), SPLITS)
    except (KeyError, TypeError, ValueError) as err:
        raise CorruptFile(
            f"{path} is not a language-model checkpoint of lm.save_lm ({err})"
        ) from None
    model = build_model(config, vocab.size)
    load_checkpoint(path, model)
    return model.to(device).eval(), vocab, config, stored["history"]


def checkpoint_split(path) -> str:
    """The split (:data:`SPLITS`) the text of a :func:`save_lm` file was cut with
    (``"regex"`` for a file saved before splits were recorded)."""
    path = _file_path("path", path)
    if not path.is_file():
        raise FileNotFoundError(f"path names no checkpoint file: {path}")
    split = load_checkpoint(path)["config"].get("split", "regex")
    return checks.choice("split", split, SPLITS)


def evaluate_text(
    model: TextLM,
    vocab: Vocab,
    text: str,
    *,
    level: str,
    split: str = "regex",
    batch_size: int = 1,
    seq_len: int = 100,
) -> dict[str, float]:
    """The model's numbers on a text of its own (a test file): cut as the model's
    training text was, encoded with its vocabulary (unknown words as its unknown
    token), read in ``batch_size`` streams, the state carried across windows of
    ``seq_len``. Returns :func:`lstm_tutorial.textlm.evaluate`'s ``loss``,
    ``perplexity``, ``bits_per_token``, ``accuracy`` and ``tokens``."""
    checks.instance("model", model, TextLM, "a TextLM")
    checks.instance("vocab", vocab, Vocab, "a Vocab")
    _check_belong_together(model, vocab, None)
    checks.string("text", text)
    checks.choice("level", level, LEVELS)
    checks.choice("split", split, SPLITS)
    B = checks.positive_int("batch_size", batch_size)
    T = checks.positive_int("seq_len", seq_len)
    tokens = corpus_tokens(text, level, split)
    unknown = sorted({t for t in tokens if t not in vocab.index})
    if unknown and vocab.unk is None:
        raise ValueError(
            f"text holds {level} tokens the vocabulary does not know, "
            f"{unknown[:5]}, and it has no unk token to stand for them"
        )
    if len(tokens) < B + 1:
        raise ValueError(
            f"text has {len(tokens)} {level} tokens, too few for batch_size={B} "
            "streams (each needs two)"
        )
    ids = vocab.encode(tokens)
    T = min(T, (len(ids) - 1) // B)
    batches = StreamBatches(ids, B, T, device=model_device(model))
    return evaluate(model, batches)


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
    split: str = "regex",
) -> str:
    """The prompt and ``length`` sampled tokens after it, as text (with the
    whitespace split, tokens joined by spaces and :data:`EOS` as a line end)."""
    checks.instance("model", model, TextLM, "a TextLM")
    checks.instance("vocab", vocab, Vocab, "a Vocab")
    _check_belong_together(model, vocab, None)
    checks.string("prompt", prompt)
    checks.choice("level", level, LEVELS)
    checks.seed("seed", seed)
    checks.choice("split", split, SPLITS)
    if split == "whitespace" and level != "word":
        raise ValueError(
            "split='whitespace' cuts words; it needs level='word', "
            f"got {level!r}"
        )
    prompt_tokens = _prompt_tokens(prompt, level, split)
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
    return _joined(prompt_tokens + vocab.decode(out), level, split)


def _prompt_tokens(prompt: str, level: str, split: str) -> list[str]:
    """A prompt's tokens: by white space (no line end added) or tokenized."""
    return prompt.split() if split == "whitespace" else tokenize(prompt, level)


def _joined(tokens: list[str], level: str, split: str) -> str:
    """Tokens as text; with the whitespace split, :data:`EOS` ends a line."""
    text = join_tokens(tokens, level)
    if split == "whitespace":
        text = text.replace(f" {EOS} ", "\n").replace(f" {EOS}", "\n")
    return text


# ------------------------------------------------------------------ command line


def _parser() -> argparse.ArgumentParser:
    d = CLI_DEFAULTS
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
        "--split",
        choices=SPLITS,
        default="regex",
        help="word level: regex (words, numbers, punctuation) or whitespace (a "
        "pre-tokenized corpus such as the Penn Treebank or WikiText: its own "
        "tokens, <eos> at each line end, its <unk> as the unknown word)",
    )
    t.add_argument(
        "--valid-file",
        default=None,
        help="the validation text (default: the last --valid-fraction of TEXTFILE)",
    )
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
    e = sub.add_parser(
        "evaluate",
        help="a trained model's numbers on a text file (a test file)",
    )
    e.add_argument("checkpoint")
    e.add_argument("textfile", help="the text to score (UTF-8)")
    e.add_argument(
        "--batch-size",
        type=int,
        default=1,
        help="streams read side by side (default 1: the whole text as one)",
    )
    e.add_argument("--seq-len", type=int, default=100)
    e.add_argument("--device", default=None)
    e.add_argument(
        "--metrics-out", default=None, help="write the numbers here as JSON"
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
    valid_text = None if args.valid_file is None else load_text(args.valid_file)
    path = (
        Path(args.checkpoint)
        if args.checkpoint
        else (default_lm_dir() / f"{Path(args.textfile).stem}.pt")
    )
    checks.path("--checkpoint", path)
    s = setup_files(
        text, config, valid_text=valid_text, split=args.split, device=device
    )
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
        save_lm(path, s.model, s.vocab, config, history, split=args.split)
        print(
            f"\ninterrupted after {history.epochs} full epochs; the model as "
            f"it is now is saved in {path}",
            file=sys.stderr,
        )
        return 130
    save_lm(path, s.model, s.vocab, config, history, split=args.split)
    print(f"saved {path}")
    _report(final_metrics(history, config, s.vocab), args.metrics_out)
    return 0


def _report(metrics: dict, metrics_out: str | None) -> None:
    """Print the numbers a command measured; write them as JSON if asked."""
    for key, value in metrics.items():
        shown = f"{value:.4g}" if isinstance(value, float) else value
        print(f"  {key}: {shown}")
    if metrics_out:
        Path(metrics_out).write_text(json.dumps(metrics, indent=2) + "\n")


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


def _evaluate_command(args: argparse.Namespace) -> int:
    device = checks.torch_device("--device", args.device) or default_device()
    model, vocab, config, _ = load_lm(args.checkpoint, device)
    text = load_text(args.textfile)
    got = evaluate_text(
        model,
        vocab,
        text,
        level=config.level,
        split=checkpoint_split(args.checkpoint),
        batch_size=args.batch_size,
        seq_len=args.seq_len,
    )
    _report(got, args.metrics_out)
    return 0


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
            split=checkpoint_split(args.checkpoint),
        )
    )
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    checks.argv("argv", argv)
    args = _parser().parse_args(argv)
    try:
        if args.command == "train":
            return _train_command(args)
        if args.command == "evaluate":
            return _evaluate_command(args)
        return _sample_command(args)
    except (ValueError, TypeError, FileNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
