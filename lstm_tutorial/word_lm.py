"""A word-level language model trained on the puppy stories, and what it remembers.

The model reads word ids and predicts the next word at every position::

    ids (B, T) -> Embedding -> (B, T, E) -> LSTM / RNN / GRU -> (B, T, H) -> Linear -> (B, T, V)

The recurrent layer is chosen by name (:data:`CELLS`), so the three kinds of network are
compared with everything else equal. The measurements read the model's next-word scores at
the two probe positions of each story (:class:`lstm_tutorial.stories.Probe`): agreement
(does the verb form that agrees score higher than the one that does not?) and recall (is the
correct name the top choice among the pet names?).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from functools import cached_property

import numpy as np
import torch
from torch import nn

from lstm_tutorial.stories import (
    DEFAULT_VOCAB,
    Story,
    StoryVocab,
    accuracy_by_distance,  # noqa: F401 - re-exported: the chapters measure with it
    generate_stories,
)
from lstm_tutorial.story import tokenize
from lstm_tutorial.training import History, fit, model_device, train_or_load

#: Padding, id 0: fills the end of short stories in a batch and is never predicted.
PAD = "<pad>"
#: End of story: the model learns to predict it after the last full stop.
EOS = "<eos>"
#: Recurrent layers the model can use, by name.
CELLS: dict[str, type[nn.RNNBase]] = {"lstm": nn.LSTM, "rnn": nn.RNN, "gru": nn.GRU}
#: Targets at padded positions get this label, which ``cross_entropy`` ignores.
IGNORE = -100


@dataclass(frozen=True)
class WordVocab:
    """A bijection between words and the ids 0..V-1; ``words[0]`` is :data:`PAD`."""

    words: tuple[str, ...]

    def __post_init__(self) -> None:
        if not self.words or self.words[0] != PAD:
            raise ValueError(f"the first word must be {PAD!r}, got {self.words[:1]}")
        if len(set(self.words)) != len(self.words):
            raise ValueError("the vocabulary lists a word twice")

    @classmethod
    def from_story_vocab(cls, vocab: StoryVocab = DEFAULT_VOCAB) -> WordVocab:
        """Every word a story can contain, plus :data:`PAD` and :data:`EOS`, in a fixed order."""
        return cls((PAD, EOS, *vocab.words()))

    @cached_property
    def index(self) -> dict[str, int]:
        return {word: k for k, word in enumerate(self.words)}

    @property
    def size(self) -> int:
        return len(self.words)

    def encode(self, tokens: Sequence[str]) -> torch.Tensor:
        """Words -> int64 tensor of shape (len(tokens),). Unknown words raise ValueError."""
        if isinstance(tokens, str):
            raise ValueError("encode expects a list of words, got one string (tokenize it first)")
        unknown = [w for w in tokens if w not in self.index]
        if unknown:
            raise ValueError(
                f"words not in the vocabulary of {self.size} words: {unknown[:5]} "
                "(the model knows only the words of the stories)"
            )
        return torch.tensor([self.index[w] for w in tokens], dtype=torch.int64)

    def decode(self, ids: Sequence[int] | torch.Tensor) -> list[str]:
        """Ids in [0, V) -> words."""
        ids = torch.as_tensor(ids)
        if ids.ndim != 1 or ids.dtype not in (torch.int32, torch.int64):
            raise ValueError(
                f"ids must be a 1-D integer tensor, got {ids.dtype} {tuple(ids.shape)}"
            )
        if ids.numel() and (int(ids.min()) < 0 or int(ids.max()) >= self.size):
            raise ValueError(f"ids must lie in [0, {self.size}), got {ids.tolist()}")
        return [self.words[k] for k in ids.tolist()]


def add_keep_bias(recurrent: nn.RNNBase, value: float) -> None:
    """Add ``value`` to the bias of the gate that keeps the old state, in place.

    For ``nn.LSTM`` that is the forget gate, $b_f$ (rows H..2H of ``bias_ih_l0``, gate order
    i, f, g, o); for ``nn.GRU`` the update gate $z$ (rows H..2H, gate order r, z, n), which
    keeps $h_{t-1}$ where it is near 1. A positive value makes a fresh network keep most of
    its memory from one word to the next. ``nn.RNN`` has no gate: ValueError.
    """
    if not isinstance(recurrent, nn.LSTM | nn.GRU):
        raise ValueError(
            f"only nn.LSTM and nn.GRU have a gate that keeps the state, got {recurrent}"
        )
    H = recurrent.hidden_size
    with torch.no_grad():
        for layer in range(recurrent.num_layers):
            getattr(recurrent, f"bias_ih_l{layer}")[H : 2 * H] += value


class WordLM(nn.Module):
    """Embedding -> one recurrent layer (``cell`` in :data:`CELLS`) -> Linear decoder.

    ``keep_bias`` is added to the bias of the LSTM's forget gate or the GRU's update gate
    (see :func:`add_keep_bias`); the vanilla RNN has no gate, and ignores it.
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
        if cell not in CELLS:
            raise ValueError(f"cell must be one of {sorted(CELLS)}, got {cell!r}")
        sizes = {"vocab_size": vocab_size, "embed_size": embed_size, "hidden_size": hidden_size}
        for what, size in sizes.items():
            if isinstance(size, bool) or not isinstance(size, int) or size < 1:
                raise ValueError(f"{what} must be a positive integer, got {size!r}")
        self.cell = cell
        self.embedding = nn.Embedding(vocab_size, embed_size)
        self.recurrent = CELLS[cell](embed_size, hidden_size, batch_first=True)
        self.decoder = nn.Linear(hidden_size, vocab_size)
        if keep_bias and cell != "rnn":
            add_keep_bias(self.recurrent, keep_bias)

    def forward(self, ids: torch.Tensor, state=None) -> tuple[torch.Tensor, object]:
        """ids: int64 (B, T) -> logits float32 (B, T, V) and the final recurrent state.

        ``state`` is the recurrent layer's state to start from (None: zeros); for the LSTM it
        is the pair (h, c), each (1, B, H), for the RNN and GRU just h.
        """
        if ids.ndim != 2 or ids.dtype != torch.int64:
            raise ValueError(
                f"ids must be an int64 tensor (B, T), got {ids.dtype} {tuple(ids.shape)}"
            )
        x = self.embedding(ids)  # (B, T, E)
        h, state = self.recurrent(x, state)  # (B, T, H)
        return self.decoder(h), state  # (B, T, V)


# ------------------------------------------------------------------------------ data


def encode_stories(stories: Sequence[Story], vocab: WordVocab) -> torch.Tensor:
    """Stories -> int64 tensor (N, L): each row is a story's ids, then :data:`EOS`, then
    :data:`PAD` up to L, the longest story's length + 1."""
    if not stories:
        raise ValueError("stories must contain at least one Story, got an empty list")
    rows = [vocab.encode([*s.tokens, EOS]) for s in stories]
    return nn.utils.rnn.pad_sequence(rows, batch_first=True, padding_value=vocab.index[PAD])


def split_inputs_targets(ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """(B, L) ids -> inputs (B, L-1) and next-word targets (B, L-1), padding targets ignored."""
    inputs, targets = ids[:, :-1], ids[:, 1:].clone()
    targets[targets == 0] = IGNORE  # id 0 is PAD
    return inputs, targets


def story_batches(
    ids: torch.Tensor, batch_size: int, *, shuffle: bool = True
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Yield (inputs, targets) batches of ``batch_size`` stories, each trimmed to its longest.

    With ``shuffle`` the stories are sorted by length into batches (so little padding is
    computed) and the batches come in an order drawn from torch's global generator.
    """
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    lengths = (ids != 0).sum(dim=1)  # (N,)
    if shuffle:
        noise = torch.rand(len(ids))  # random order among stories of equal length
        order = torch.argsort(lengths.double() + noise.double())
        chunks = list(order.split(batch_size))
        chunks = [chunks[k] for k in torch.randperm(len(chunks)).tolist()]
    else:
        chunks = list(torch.arange(len(ids)).split(batch_size))
    for chunk in chunks:
        batch = ids[chunk, : int(lengths[chunk].max())]
        yield split_inputs_targets(batch)


def lm_loss(model: nn.Module, batch: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
    """Mean cross-entropy of the next word over the non-padded positions of a batch."""
    inputs, targets = batch
    logits, _ = model(inputs)  # (B, T, V)
    return nn.functional.cross_entropy(logits.flatten(0, 1), targets.flatten(), ignore_index=IGNORE)


@torch.no_grad()
def perplexity(model: nn.Module, ids: torch.Tensor, batch_size: int = 256) -> float:
    """exp(mean cross-entropy per predicted word) of ``model`` on encoded stories ``ids``."""
    model.eval()
    total, count = 0.0, 0
    for inputs, targets in story_batches(ids.to(model_device(model)), batch_size, shuffle=False):
        logits, _ = model(inputs)
        total += float(
            nn.functional.cross_entropy(
                logits.flatten(0, 1), targets.flatten(), ignore_index=IGNORE, reduction="sum"
            )
        )
        count += int((targets != IGNORE).sum())
    return math.exp(total / count)


# ------------------------------------------------------------------------ measurements


@torch.no_grad()
def probe_scores(
    model: nn.Module, vocab: WordVocab, stories: Sequence[Story], kind: str, batch_size: int = 256
) -> torch.Tensor:
    """The model's next-word scores (logits) at each story's ``kind`` probe ("agreement" or
    "recall"), for the candidates only: float tensor (N, 1 + W), column 0 the correct word,
    columns 1.. the wrong words in the order of ``probe.wrong``. Only the words before the
    probe are read."""
    if kind not in ("agreement", "recall"):
        raise ValueError(f"kind must be 'agreement' or 'recall', got {kind!r}")
    ids = encode_stories(stories, vocab).to(model_device(model))
    model.eval()
    rows = []
    for k in range(0, len(ids), batch_size):
        logits, _ = model(ids[k : k + batch_size, :-1])  # (b, L-1, V)
        for n, story in enumerate(stories[k : k + batch_size]):
            probe = getattr(story, kind)
            candidates = vocab.encode([probe.correct, *probe.wrong]).to(logits.device)
            rows.append(logits[n, probe.position - 1, candidates])  # read tokens[:position]
    return torch.stack(rows).cpu()


def score_probes(
    model: nn.Module, vocab: WordVocab, stories: Sequence[Story], batch_size: int = 256
) -> dict[str, np.ndarray]:
    """Test the model at each story's two probes. Returns arrays of shape (N,):

    - ``"distance"``: the story's number of filler words;
    - ``"agreement"``: True where the agreeing verb form gets a higher probability than the
      other form;
    - ``"recall"``: True where the correct name gets a higher probability than every other
      pet name (the top choice *among the names*).
    """
    result = {"distance": np.array([s.distance for s in stories])}
    for kind in ("agreement", "recall"):
        scores = probe_scores(model, vocab, stories, kind, batch_size)  # (N, 1 + W)
        result[kind] = (scores[:, 0] > scores[:, 1:].max(dim=1).values).numpy()
    return result


def probe_choices(
    model: nn.Module, vocab: WordVocab, stories: Sequence[Story], kind: str
) -> list[str]:
    """The candidate word the model ranks first at each story's ``kind`` probe."""
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
    if not isinstance(prompt, str) or not prompt.strip():
        raise ValueError("prompt must be a non-empty text, e.g. 'John gave Mary a puppy.'")
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
            k = int(torch.multinomial(scores.softmax(-1).cpu(), 1, generator=generator))
        if vocab.words[k] == EOS:
            break
        new.append(vocab.words[k])
        logits, state = model(torch.tensor([[k]], device=ids.device), state)
    return " ".join([*words, *new]).replace(" .", ".")


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
TUNED_LR = {cell: min(search, key=search.get) for cell, search in LR_SEARCH.items()}


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

    def __post_init__(self) -> None:
        if self.cell not in CELLS:
            raise ValueError(f"cell must be one of {sorted(CELLS)}, got {self.cell!r}")
        if not 0 <= self.max_distance <= DEFAULT_VOCAB.max_distance:
            raise ValueError(
                f"max_distance must be in 0..{DEFAULT_VOCAB.max_distance}, got {self.max_distance}"
            )

    @classmethod
    def tuned(cls, cell: str, **changes) -> StoryLMConfig:
        """The chapter's configuration for ``cell``, with its learning rate from TUNED_LR."""
        if cell not in TUNED_LR:
            raise ValueError(f"cell must be one of {sorted(TUNED_LR)}, got {cell!r}")
        return cls(cell=cell, lr=TUNED_LR[cell], **changes)


def story_data(config: StoryLMConfig, vocab: WordVocab) -> tuple[torch.Tensor, torch.Tensor]:
    """The encoded training and validation stories of ``config`` (distances 0..max)."""
    distances = range(config.max_distance + 1)
    rng = np.random.default_rng(config.data_seed)
    train = generate_stories(config.train_stories, distances, seed=rng)
    val = generate_stories(config.val_stories, distances, seed=rng)
    return encode_stories(train, vocab), encode_stories(val, vocab)


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
            log=None if log is None else (lambda line: log(f"{config.cell:>4}  {line}")),
        )

    name = f"story-lm-{config.cell}"
    return train_or_load(
        name, asdict(config), build, train, directory=directory, device=device, log=log
    )


def tune_learning_rate(cell: str, grid: Sequence[float] = LR_GRID, **changes) -> dict[float, float]:
    """Train ``StoryLMConfig(cell=cell, lr=lr, **changes)`` for each ``lr`` in ``grid`` (not
    cached) and return ``{lr: final validation perplexity}``; the best is the smallest."""
    import tempfile

    result = {}
    for lr in grid:
        with tempfile.TemporaryDirectory() as tmp:
            _, history = train_story_lm(
                StoryLMConfig(cell=cell, lr=lr, **changes), directory=tmp, log=None
            )
        result[lr] = history.metrics["val ppl"][-1]
    return result
