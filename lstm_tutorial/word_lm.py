"""A word-level language model trained on the puppy stories, and what it remembers.

The model reads word ids and predicts the next word at every position::

    ids (B, T) -> Embedding -> (B, T, E) -> LSTM / RNN / GRU -> (B, T, H) -> Linear -> (B, T, V)

The recurrent layer is chosen by name (:data:`CELLS`), so the three kinds of network are
compared with everything else equal. The measurements read the model's next-word scores at
the two probe positions of each story (:class:`lstm_tutorial.stories.Probe`): agreement
(does the verb form that agrees score higher than the one that does not?) and recall (is the
correct name the top choice among the pet names?).

Checks: every public function and class checks its arguments with :mod:`lstm_tutorial.checks`
before any work: sizes, names, numbers and the whole :class:`StoryLMConfig` when it is built;
token ids (int64 tensors, in the vocabulary, on the model's device), the model's state, the
vocabulary against the model's embedding and decoder, the stories, prompts and batches. The
functions a chapter shows (``WordLM``, ``add_keep_bias``, ``lm_loss``, ``generate``,
``probe_scores``, ``score_probes``, ``train_story_lm``) check in one line at the top that
calls a private helper. The measurements take a :class:`WordLM` or any model called like it
(an ``embedding`` and a ``decoder`` are used to check ids and the vocabulary where present).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, fields
from functools import cached_property
from typing import Any

import numpy as np
import torch
from torch import nn

from lstm_tutorial import checks
from lstm_tutorial.stories import (
    DEFAULT_VOCAB,
    Story,
    StoryVocab,
    _check_stories,
    accuracy_by_distance,  # noqa: F401 - re-exported: the chapters measure with it
    generate_stories,
)
from lstm_tutorial.story import PROMPT, tokenize
from lstm_tutorial.training import History, fit, model_device, train_or_load

#: Padding, id 0: fills the end of short stories in a batch and is never predicted.
PAD = "<pad>"
#: End of story: the model learns to predict it after the last full stop.
EOS = "<eos>"
#: Recurrent layers the model can use, by name.
CELLS: dict[str, type[nn.RNNBase]] = {
    "lstm": nn.LSTM,
    "rnn": nn.RNN,
    "gru": nn.GRU,
}
#: Targets at padded positions get this label, which ``cross_entropy`` ignores.
IGNORE = -100


@dataclass(frozen=True)
class WordVocab:
    """A bijection between words and the ids 0..V-1; ``words[0]`` is :data:`PAD`."""

    words: tuple[str, ...]

    def __post_init__(self) -> None:
        words = checks.sequence("words", self.words)
        for k, word in enumerate(words):
            checks.string(f"words[{k}]", word)
        if words[0] != PAD:
            raise ValueError(f"words[0] must be {PAD!r}, got {words[0]!r}")
        if len(set(words)) != len(words):
            twice = sorted({w for w in words if words.count(w) > 1})
            raise ValueError(
                f"words must list each word once, got {twice} more than once"
            )
        object.__setattr__(
            self, "words", tuple(words)
        )  # a list becomes a tuple

    @classmethod
    def from_story_vocab(cls, vocab: StoryVocab = DEFAULT_VOCAB) -> WordVocab:
        """Every word a story can contain, plus :data:`PAD` and :data:`EOS`, in a fixed order."""
        checks.instance("vocab", vocab, StoryVocab, "a StoryVocab")
        return cls((PAD, EOS, *vocab.words()))

    @cached_property
    def index(self) -> dict[str, int]:
        return {word: k for k, word in enumerate(self.words)}

    @property
    def size(self) -> int:
        return len(self.words)

    def encode(self, tokens: Sequence[str]) -> torch.Tensor:
        """Words -> int64 tensor of shape (len(tokens),). Unknown words raise ValueError."""
        self._check_words("tokens", tokens)
        return torch.tensor([self.index[w] for w in tokens], dtype=torch.int64)

    def decode(self, ids: Sequence[int] | torch.Tensor) -> list[str]:
        """Ids in [0, V) -> words. ``ids``: a 1-D integer tensor, array or list."""
        if isinstance(ids, torch.Tensor):
            checks.tensor("ids", ids, ndim=1, nonempty=False)
            if (
                ids.dtype == torch.bool
                or ids.is_floating_point()
                or ids.is_complex()
            ):
                raise checks.ArgumentTypeError(
                    f"ids must be an integer tensor of word ids, got dtype {ids.dtype}"
                )
            checks.ids(
                "ids", ids.cpu().numpy(), self.size, ndim=1, nonempty=False
            )
        elif isinstance(ids, np.ndarray | list | tuple):
            checks.ids("ids", ids, self.size, ndim=1, nonempty=False)
        else:
            raise checks.ArgumentTypeError(
                f"ids must be word ids: a 1-D integer tensor, NumPy array or list, "
                f"got {checks.describe(ids)}"
            )
        return [self.words[k] for k in torch.as_tensor(ids).tolist()]

    def _check_words(self, name: str, tokens: Any) -> None:
        """A list of words that are all in the vocabulary."""
        if isinstance(tokens, str):
            raise checks.ArgumentTypeError(
                f"{name} must be a list of words, got one string: tokenize it first "
                "(lstm_tutorial.story.tokenize)"
            )
        for k, word in enumerate(checks.sequence(name, tokens, empty=True)):
            checks.string(f"{name}[{k}]", word)
        unknown = [w for w in tokens if w not in self.index]
        if unknown:
            raise ValueError(
                f"{name} has words not in the vocabulary of {self.size} words: {unknown[:5]} "
                "(the model knows only the words of the stories)"
            )


def _check_keep_bias(recurrent: Any, value: Any) -> None:
    if not isinstance(recurrent, nn.LSTM | nn.GRU):
        raise checks.ArgumentTypeError(
            f"recurrent must be an nn.LSTM or nn.GRU, the layers with a gate that keeps the "
            f"state, got {checks.describe(recurrent)}"
        )
    if not recurrent.bias:
        raise ValueError(
            "recurrent has no biases (bias=False): there is no gate bias to add to"
        )
    checks.number("value", value)
    checks.fits_dtype("value", value, recurrent.bias_ih_l0.dtype)


def add_keep_bias(recurrent: nn.RNNBase, value: float) -> None:
    """Add ``value`` to the bias of the gate that keeps the old state, in place.

    For ``nn.LSTM`` that is the forget gate, $b_f$ (rows H..2H of each ``bias_ih_l*``, order
    i, f, g, o); for ``nn.GRU`` the update gate $z$ (rows H..2H, gate order r, z, n), which
    keeps $h_{t-1}$ where it is near 1. A positive value makes a fresh network keep most of
    its memory from one word to the next. ``nn.RNN`` has no gate: ValueError.
    """
    _check_keep_bias(recurrent, value)
    H = recurrent.hidden_size
    with torch.no_grad():
        for name, bias in recurrent.named_parameters():
            if name.startswith("bias_ih_"):  # every layer and direction
                bias[H : 2 * H] += value


def _check_word_lm(
    vocab_size: Any,
    cell: Any,
    embed_size: Any,
    hidden_size: Any,
    keep_bias: Any,
):
    checks.positive_int("vocab_size", vocab_size)
    checks.choice("cell", cell, sorted(CELLS))
    checks.positive_int("embed_size", embed_size)
    checks.positive_int("hidden_size", hidden_size)
    checks.number("keep_bias", keep_bias)


def _check_ids_and_state(model: WordLM, ids: Any, state: Any) -> None:
    """Ids (B, T) in the model's vocabulary on its device; the state None or shaped like the
    recurrent layer's: (h, c) for the LSTM, h for the RNN and GRU, each (1, B, H)."""
    like = model.decoder.weight
    _check_ids("ids", ids, model.embedding.num_embeddings, like.device)
    if state is None:
        return
    shape = (1, ids.shape[0], model.recurrent.hidden_size)
    if model.cell == "lstm":
        if not isinstance(state, tuple | list) or len(state) != 2:
            raise checks.ArgumentTypeError(
                f"state must be None or the LSTM's pair (h, c), each {shape}, "
                f"got {checks.describe(state)}"
            )
        parts = {"state[0] (h)": state[0], "state[1] (c)": state[1]}
    else:
        parts = {"state": state}
    for name, part in parts.items():
        checks.tensor(name, part, like=like, shape=shape)


def _check_ids(
    name: str, ids: Any, vocab_size: int | None, device: Any = None
) -> None:
    """An int64 tensor (B, T) of ids in [0, vocab_size) (>= 0 when the size is unknown)."""
    if vocab_size is None:
        checks.tensor(name, ids, dtype=torch.int64, ndim=2)
        if int(ids.min()) < 0:
            raise ValueError(
                f"{name} must hold ids >= 0 (id 0 is padding), got {int(ids.min())}"
            )
    else:
        checks.id_tensor(name, ids, vocab_size, ndim=2)
    if device is not None and ids.device != device:
        raise ValueError(
            f"{name} is on device {ids.device} but the model's parameters are on {device}; "
            "move one of them with .to(device)"
        )


class WordLM(nn.Module):
    """Embedding -> one recurrent layer (``cell`` in :data:`CELLS`) -> decoder.

    ``keep_bias`` is added to the bias of the LSTM's forget gate or the GRU's
    update gate (see :func:`add_keep_bias`); the vanilla RNN has no gate, and
    ignores it.
    """

    def __init__(
        self,
        vocab_size: int,
        *,
        cell: str = "lstm",
        embed_size: int = 32,
        hidden_size: int = 128,
        keep_bias: float = 0.0,
    ) -> None:
        super().__init__()
        _check_word_lm(vocab_size, cell, embed_size, hidden_size, keep_bias)
        self.cell = cell
        self.embedding = nn.Embedding(vocab_size, embed_size)
        self.recurrent = CELLS[cell](embed_size, hidden_size, batch_first=True)
        self.decoder = nn.Linear(hidden_size, vocab_size)
        if keep_bias and cell != "rnn":
            add_keep_bias(self.recurrent, keep_bias)

    def forward(
        self, ids: torch.Tensor, state=None
    ) -> tuple[torch.Tensor, object]:
        """ids: int64 (B, T) -> logits float32 (B, T, V) and the final state.

        ``state`` is the recurrent layer's state to start from (None: zeros);
        for the LSTM it is the pair (h, c), each (1, B, H), for the RNN and GRU
        just h.
        """
        _check_ids_and_state(self, ids, state)
        x = self.embedding(ids)  # (B, T, E)
        h, state = self.recurrent(x, state)  # (B, T, H)
        return self.decoder(h), state  # (B, T, V)


# ------------------------------------------------------------------------------ data


def _model_sizes(model: Any) -> tuple[int | None, int | None]:
    """How many ids a model reads (its ``embedding``) and how many words it scores (its
    ``decoder``), where it has them: a WordLM and the sweep's StoryLM do."""
    checks.instance(
        "model", model, nn.Module, "a WordLM (or an nn.Module called like one)"
    )
    embedding, decoder = (
        getattr(model, "embedding", None),
        getattr(model, "decoder", None),
    )
    reads = (
        embedding.num_embeddings
        if isinstance(embedding, nn.Embedding)
        else None
    )
    scores = decoder.out_features if isinstance(decoder, nn.Linear) else None
    return reads, scores


def _check_model(model: Any) -> int | None:
    """A model; returns the number of ids it reads, where it says (None otherwise)."""
    return _model_sizes(model)[0]


def _check_vocab(model: Any, vocab: Any) -> None:
    """A model and the vocabulary it was built with: as many words as it reads and scores."""
    reads, scores = _model_sizes(model)
    checks.instance(
        "vocab", vocab, WordVocab, "a WordVocab (WordVocab.from_story_vocab())"
    )
    for what, size in (("reads", reads), ("scores", scores)):
        if size is not None and size != vocab.size:
            raise ValueError(
                f"vocab has {vocab.size} words but the model {what} {size}: use the "
                "vocabulary the model was built with"
            )


def _check_encoded(name: str, ids: Any, vocab_size: int | None = None) -> None:
    """Encoded stories as :func:`encode_stories` makes them: int64 (N, L), L >= 2, each row
    at least two words, padding (id 0) only at the end of a row."""
    _check_ids(name, ids, vocab_size)
    if ids.shape[1] < 2:
        raise ValueError(
            f"{name} must have at least 2 columns (a word and the next), got {tuple(ids.shape)}"
        )
    real = ids != 0
    if bool((real[:, 1:] & ~real[:, :-1]).any()):
        raise ValueError(
            f"{name} must be encoded stories: each row its word ids, then padding (id 0) "
            "only at its end (encode_stories)"
        )
    words = real.sum(dim=1)
    if int(words.min()) < 2:
        row = int(words.argmin())
        raise ValueError(
            f"{name} must hold at least 2 words in every row (a word and the next to "
            f"predict), row {row} has {int(words[row])}"
        )


def encode_stories(stories: Sequence[Story], vocab: WordVocab) -> torch.Tensor:
    """Stories -> int64 tensor (N, L): each row is a story's ids, then :data:`EOS`, then
    :data:`PAD` up to L, the longest story's length + 1."""
    _check_stories(stories=stories)
    checks.instance(
        "vocab", vocab, WordVocab, "a WordVocab (WordVocab.from_story_vocab())"
    )
    if EOS not in vocab.index:
        raise ValueError(f"vocab must contain the end mark {EOS!r}")
    for k, story in enumerate(stories):
        vocab._check_words(f"stories[{k}].tokens", story.tokens)
    rows = [vocab.encode([*s.tokens, EOS]) for s in stories]
    return nn.utils.rnn.pad_sequence(
        rows, batch_first=True, padding_value=vocab.index[PAD]
    )


def split_inputs_targets(
    ids: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, L) ids -> inputs (B, L-1) and next-word targets (B, L-1), padding targets ignored."""
    _check_encoded("ids", ids)
    return _split_inputs_targets(ids)


def _split_inputs_targets(
    ids: torch.Tensor,
) -> tuple[torch.Tensor, torch.Tensor]:
    inputs, targets = ids[:, :-1], ids[:, 1:].clone()
    targets[targets == 0] = IGNORE  # id 0 is PAD
    return inputs, targets


def story_batches(
    ids: torch.Tensor, batch_size: int, *, shuffle: bool = True
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Yield (inputs, targets) batches of ``batch_size`` stories, each trimmed to its longest.

    With ``shuffle`` the stories are sorted by length into batches (so little padding is
    computed) and the batches come in an order drawn from torch's global generator. The
    arguments are checked when it is called, before the first batch is asked for.
    """
    _check_encoded("ids", ids)
    checks.positive_int("batch_size", batch_size)
    checks.boolean("shuffle", shuffle)
    return _story_batches(ids, batch_size, shuffle)


def _story_batches(
    ids: torch.Tensor, batch_size: int, shuffle: bool
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    lengths = (ids != 0).sum(dim=1)  # (N,)
    if shuffle:
        noise = torch.rand(
            len(ids)
        )  # random order among stories of equal length
        order = torch.argsort(lengths.double() + noise.double())
        chunks = list(order.split(batch_size))
        chunks = [chunks[k] for k in torch.randperm(len(chunks)).tolist()]
    else:
        chunks = list(torch.arange(len(ids)).split(batch_size))
    for chunk in chunks:
        batch = ids[chunk, : int(lengths[chunk].max())]
        yield _split_inputs_targets(batch)


def _check_batch(model: Any, batch: Any) -> None:
    """A batch of :func:`story_batches` for ``model``: int64 inputs (B, T) in the ids it
    reads, on its device, and targets of the same shape, ids it scores or IGNORE, at least
    one of them a word."""
    reads, scores = _model_sizes(model)
    if not isinstance(batch, tuple | list) or len(batch) != 2:
        raise checks.ArgumentTypeError(
            f"batch must be a pair (inputs, targets) of id tensors (B, T), as story_batches "
            f"yields, got {checks.describe(batch)}"
        )
    inputs, targets = batch
    _check_ids("batch[0] (inputs)", inputs, reads, model_device(model))
    checks.tensor(
        "batch[1] (targets)",
        targets,
        dtype=torch.int64,
        shape=tuple(inputs.shape),
    )
    words = targets[targets != IGNORE]
    if words.numel() == 0:
        raise ValueError(
            f"batch[1] (targets) holds no word to predict: every target is IGNORE={IGNORE}"
        )
    high = None if scores is None else scores - 1
    if int(words.min()) < 0 or (high is not None and int(words.max()) > high):
        raise ValueError(
            f"batch[1] (targets) must hold word ids in [0, {scores}) or IGNORE={IGNORE}, "
            f"got {int(words.min())}..{int(words.max())}"
        )


def lm_loss(
    model: nn.Module, batch: tuple[torch.Tensor, torch.Tensor]
) -> torch.Tensor:
    """Mean cross-entropy of the next word over the non-padded positions of a batch."""
    _check_batch(model, batch)
    inputs, targets = batch
    logits, _ = model(inputs)  # (B, T, V)
    return nn.functional.cross_entropy(
        logits.flatten(0, 1), targets.flatten(), ignore_index=IGNORE
    )


@torch.no_grad()
def perplexity(
    model: nn.Module, ids: torch.Tensor, batch_size: int = 256
) -> float:
    """exp(mean cross-entropy per predicted word) of ``model`` on encoded stories ``ids``
    (moved to the model's device)."""
    _check_encoded("ids", ids, _check_model(model))
    checks.positive_int("batch_size", batch_size)
    model.eval()
    total, count = 0.0, 0
    for inputs, targets in story_batches(
        ids.to(model_device(model)), batch_size, shuffle=False
    ):
        logits, _ = model(inputs)
        total += float(
            nn.functional.cross_entropy(
                logits.flatten(0, 1),
                targets.flatten(),
                ignore_index=IGNORE,
                reduction="sum",
            )
        )
        count += int((targets != IGNORE).sum())
    return math.exp(total / count)


# ------------------------------------------------------------------------ measurements


def _check_probe_args(
    model: Any,
    vocab: Any,
    stories: Any,
    kind: Any = "agreement",
    batch_size: Any = 256,
) -> None:
    """A model and its vocabulary, stories whose words and probes it knows, a probe kind."""
    _check_vocab(model, vocab)
    _check_stories(stories=stories)
    checks.choice("kind", kind, ("agreement", "recall"))
    checks.positive_int("batch_size", batch_size)
    for k, story in enumerate(stories):
        vocab._check_words(f"stories[{k}].tokens", story.tokens)
        for probe_kind in ("agreement", "recall"):
            probe = getattr(story, probe_kind)
            vocab._check_words(
                f"stories[{k}].{probe_kind}", [probe.correct, *probe.wrong]
            )


@torch.no_grad()
def probe_scores(
    model: nn.Module,
    vocab: WordVocab,
    stories: Sequence[Story],
    kind: str,
    batch_size: int = 256,
) -> torch.Tensor:
    """The model's next-word scores (logits) at each story's ``kind`` probe ("agreement" or
    "recall"), for the candidates only: float tensor (N, 1 + W), column 0 the correct word,
    columns 1.. the wrong words in the order of ``probe.wrong``. Only the words before the
    probe are read."""
    _check_probe_args(model, vocab, stories, kind, batch_size)
    ids = encode_stories(stories, vocab).to(model_device(model))
    model.eval()
    rows = []
    for k in range(0, len(ids), batch_size):
        logits, _ = model(ids[k : k + batch_size, :-1])  # (b, L-1, V)
        for n, story in enumerate(stories[k : k + batch_size]):
            probe = getattr(story, kind)
            candidates = vocab.encode([probe.correct, *probe.wrong]).to(
                logits.device
            )
            rows.append(
                logits[n, probe.position - 1, candidates]
            )  # read tokens[:position]
    return torch.stack(rows).cpu()


def score_probes(
    model: nn.Module,
    vocab: WordVocab,
    stories: Sequence[Story],
    batch_size: int = 256,
) -> dict[str, np.ndarray]:
    """Test the model at each story's two probes. Returns arrays of shape (N,):

    - ``"distance"``: the story's number of filler words;
    - ``"agreement"``: True where the agreeing verb form gets a higher probability than the
      other form;
    - ``"recall"``: True where the correct name gets a higher probability than every other
      pet name (the top choice *among the names*).
    """
    _check_probe_args(model, vocab, stories, batch_size=batch_size)
    result = {"distance": np.array([s.distance for s in stories])}
    for kind in ("agreement", "recall"):
        scores = probe_scores(
            model, vocab, stories, kind, batch_size
        )  # (N, 1 + W)
        result[kind] = (scores[:, 0] > scores[:, 1:].max(dim=1).values).numpy()
    return result


def probe_choices(
    model: nn.Module, vocab: WordVocab, stories: Sequence[Story], kind: str
) -> list[str]:
    """The candidate word the model ranks first at each story's ``kind`` probe."""
    _check_probe_args(model, vocab, stories, kind)
    best = probe_scores(model, vocab, stories, kind).argmax(dim=1).tolist()
    return [
        ([p.correct, *p.wrong])[k]
        for p, k in zip((getattr(s, kind) for s in stories), best, strict=True)
    ]


@torch.no_grad()
def generate(
    model: nn.Module,
    vocab: WordVocab,
    prompt: str,
    *,
    max_new_words: int = 40,
    greedy: bool = True,
    seed: int = 0,
) -> str:
    """Continue ``prompt`` word by word until :data:`EOS` or ``max_new_words`` words.

    ``greedy=True`` takes the most probable word at every step; otherwise words are sampled
    from the model's distribution with a ``torch.Generator`` seeded with ``seed``. Returns the
    prompt and the continuation as text. An empty prompt, or one with words the model does
    not know, raises ValueError.
    """
    _check_generate(model, vocab, prompt, max_new_words, greedy, seed)
    words = tokenize(prompt)
    ids = vocab.encode(words).to(model_device(model))[None, :]  # (1, T)
    generator = torch.Generator().manual_seed(seed)
    model.eval()
    logits, state = model(ids)
    new: list[str] = []
    for _ in range(max_new_words):
        scores = logits[0, -1]  # (V,)
        scores[vocab.index[PAD]] = -math.inf  # never propose padding
        if greedy:
            k = int(scores.argmax())
        else:
            k = int(
                torch.multinomial(
                    scores.softmax(-1).cpu(), 1, generator=generator
                )
            )
        if vocab.words[k] == EOS:
            break
        new.append(vocab.words[k])
        logits, state = model(torch.tensor([[k]], device=ids.device), state)
    return " ".join([*words, *new]).replace(" .", ".")


def _check_generate(
    model: Any,
    vocab: Any,
    prompt: Any,
    max_new_words: Any,
    greedy: Any,
    seed: Any,
) -> None:
    """The arguments of :func:`generate`: a prompt of words the model knows, and so on."""
    _check_vocab(model, vocab)
    checks.string("prompt", prompt, empty=True)
    if not prompt.strip():
        raise ValueError(
            f"prompt must be a non-empty text, e.g. {PROMPT!r}, got {prompt!r}"
        )
    try:
        words = tokenize(prompt)
    except ValueError as err:
        raise ValueError(f"prompt cannot be split into words: {err}") from None
    vocab._check_words("prompt", words)
    checks.count("max_new_words", max_new_words)
    checks.boolean("greedy", greedy)
    checks.seed("seed", seed)


# ------------------------------------------------------------------- the chapter's models


#: The learning rates tried for each kind of network (Adam, same budget for all).
LR_GRID = (1e-3, 3e-3, 1e-2, 3e-2)
#: Validation perplexity after training ``StoryLMConfig(cell=cell, lr=lr)`` for each rate of
#: LR_GRID, as :func:`tune_learning_rate` reported it on a CPU (rounded to 3 decimals).
LR_SEARCH = {
    "lstm": {1e-3: 5.507, 3e-3: 4.852, 1e-2: 4.708, 3e-2: 4.987},
    "gru": {1e-3: 5.422, 3e-3: 4.621, 1e-2: 4.595, 3e-2: 4.647},
    "rnn": {1e-3: 5.592, 3e-3: 5.604, 1e-2: 5.682, 3e-2: 6.081},
}
#: The rate with the lowest validation perplexity, for each kind of network.
TUNED_LR = {
    cell: min(search, key=search.get) for cell, search in LR_SEARCH.items()
}


@dataclass(frozen=True)
class StoryLMConfig:
    """Everything that determines a trained story model; its hash names the cached file."""

    cell: str = "lstm"
    embed_size: int = 32
    hidden_size: int = 128
    keep_bias: float = 2.0
    lr: float = 1e-2
    epochs: int = 7
    batch_size: int = 32
    train_stories: int = 4000
    val_stories: int = 400
    max_distance: int = 24
    clip_norm: float = 1.0
    data_seed: int = 1
    seed: int = 0
    version: int = 1
    min_distance: int = 0
    distractor: bool = False
    attractors: int = 0

    def __post_init__(self) -> None:
        _check_config(self)

    @classmethod
    def tuned(cls, cell: str, **changes) -> StoryLMConfig:
        """The chapter's configuration for ``cell``, with its learning rate from TUNED_LR."""
        checks.choice("cell", cell, sorted(TUNED_LR))
        _check_changes(changes)
        return cls(cell=cell, lr=TUNED_LR[cell], **changes)


def _check_config(config: StoryLMConfig) -> None:
    """Every field of a :class:`StoryLMConfig`, at once, before anything is trained."""
    checks.config_fields(
        config,
        {
            "cell": lambda name, value: checks.choice(
                name, value, sorted(CELLS)
            ),
            "embed_size": checks.positive_int,
            "hidden_size": checks.positive_int,
            "keep_bias": checks.number,
            "lr": checks.positive_number,
            "epochs": checks.positive_int,
            "batch_size": checks.positive_int,
            "train_stories": checks.positive_int,
            "val_stories": checks.positive_int,
            "max_distance": lambda name, value: checks.integer(
                name, value, minimum=0, maximum=DEFAULT_VOCAB.max_distance
            ),
            "clip_norm": lambda name, value: checks.optional(
                checks.positive_number, name, value
            ),
            "data_seed": checks.seed,
            "seed": checks.seed,
            "version": checks.positive_int,
            "min_distance": checks.count,
            "distractor": checks.boolean,
            "attractors": checks.count,
        },
    )
    if config.min_distance > config.max_distance:
        raise ValueError(
            f"StoryLMConfig.min_distance must be at most max_distance ({config.max_distance}), "
            f"got {config.min_distance}"
        )
    if config.attractors > config.min_distance:
        raise ValueError(
            f"StoryLMConfig.attractors must be at most min_distance ({config.min_distance}): "
            f"every story needs room for them, got {config.attractors}"
        )


def _check_changes(changes: dict[str, Any]) -> None:
    """Changes to a config that sets ``cell`` and ``lr`` itself: other fields only."""
    if "lr" in changes:
        raise ValueError(
            "changes must not set lr: the learning rate is what this function chooses "
            "(build StoryLMConfig(cell=..., lr=...) for another rate)"
        )
    checks.no_unknown_keys(
        "changes", changes, [f.name for f in fields(StoryLMConfig)]
    )


def story_data(
    config: StoryLMConfig, vocab: WordVocab
) -> tuple[torch.Tensor, torch.Tensor]:
    """The encoded training and validation stories of ``config`` (distances
    min_distance..max_distance, with its distractor and attractor options)."""
    checks.instance("config", config, StoryLMConfig, "a StoryLMConfig")
    checks.instance(
        "vocab", vocab, WordVocab, "a WordVocab (WordVocab.from_story_vocab())"
    )
    rng = np.random.default_rng(config.data_seed)
    options = story_options(config)
    train = generate_stories(config.train_stories, seed=rng, **options)
    val = generate_stories(config.val_stories, seed=rng, **options)
    return encode_stories(train, vocab), encode_stories(val, vocab)


def story_options(config: StoryLMConfig) -> dict[str, Any]:
    """The keyword arguments of :func:`lstm_tutorial.stories.generate_stories` that give
    stories like ``config``'s: distances, distractor, attractors."""
    checks.instance("config", config, StoryLMConfig, "a StoryLMConfig")
    return {
        "distances": range(config.min_distance, config.max_distance + 1),
        "distractor": config.distractor,
        "attractors": config.attractors,
    }


def _check_training(config: Any, directory: Any, device: Any, log: Any) -> None:
    checks.instance("config", config, StoryLMConfig, "a StoryLMConfig")
    _check_config(
        config
    )  # again: a frozen dataclass can still be changed behind its back
    checks.optional(checks.path, "directory", directory)
    checks.torch_device("device", device)
    checks.optional(checks.function, "log", log)


def train_story_lm(
    config: StoryLMConfig,
    *,
    directory=None,
    device=None,
    log: Callable[[str], None] | None = print,
) -> tuple[WordLM, History]:
    """The word LM of ``config``, trained on the puppy stories, or loaded if cached.

    Trains with :func:`lstm_tutorial.training.fit` (Adam, gradient clipping), reporting the
    validation perplexity after every epoch; see :func:`lstm_tutorial.training.train_or_load`
    for the cache.
    """
    _check_training(config, directory, device, log)
    vocab = WordVocab.from_story_vocab()

    def build() -> WordLM:
        return WordLM(
            vocab.size,
            cell=config.cell,
            embed_size=config.embed_size,
            hidden_size=config.hidden_size,
            keep_bias=config.keep_bias,
        )

    def train(model: nn.Module, device: torch.device) -> History:
        train_ids, val_ids = story_data(config, vocab)
        return fit(
            model,
            lambda epoch: story_batches(train_ids, config.batch_size),
            loss=lm_loss,
            epochs=config.epochs,
            lr=config.lr,
            metrics={"val ppl": lambda m: perplexity(m, val_ids)},
            clip_norm=config.clip_norm,
            device=device,
            seed=config.seed,
            log=None
            if log is None
            else (lambda line: log(f"{config.cell:>4}  {line}")),
        )

    name = f"story-lm-{config.cell}"
    return train_or_load(
        name,
        asdict(config),
        build,
        train,
        directory=directory,
        device=device,
        log=log,
    )


def tune_learning_rate(
    cell: str, grid: Sequence[float] = LR_GRID, **changes
) -> dict[float, float]:
    """Train ``StoryLMConfig(cell=cell, lr=lr, **changes)`` for each ``lr`` in ``grid`` (not
    cached) and return ``{lr: final validation perplexity}``; the best is the smallest.
    Every config is built, and so checked, before the first one is trained."""
    import tempfile

    checks.choice("cell", cell, sorted(CELLS))
    for k, lr in enumerate(checks.sequence("grid", grid)):
        checks.positive_number(f"grid[{k}]", lr)
    if len(set(grid)) != len(grid):
        raise ValueError(
            f"grid must list each learning rate once, got {list(grid)}"
        )
    _check_changes(changes)
    configs = [StoryLMConfig(cell=cell, lr=lr, **changes) for lr in grid]
    result = {}
    for lr, config in zip(grid, configs, strict=True):
        with tempfile.TemporaryDirectory() as tmp:
            _, history = train_story_lm(config, directory=tmp, log=None)
        result[lr] = history.metrics["val ppl"][-1]
    return result
