"""Training helpers shared by every PyTorch chapter of the book.

One loop, :func:`fit`, trains any ``nn.Module`` whose loss a small function can compute from
a batch. It prints one plain line per epoch, validates, clips the gradient norm, stops with
:class:`TrainingDiverged` when the loss blows up, and is repeatable: seeded, it gives the
same losses on every run on a CPU.

Trained models are saved with :func:`save_checkpoint` (a ``state_dict`` plus the config and
the history, all plain data) and read back with :func:`load_checkpoint`, which uses
``torch.load(..., weights_only=True)``. :func:`train_or_load` caches a model under a name and
a hash of its config, so that chapters which need the same model share one training run.

Every public function checks its arguments (``lstm_tutorial.checks``) before it trains,
saves or loads anything; :func:`fit` checks all of its arguments before the first batch.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from lstm_tutorial import checks
from lstm_tutorial.seeding import seed_everything
from lstm_tutorial.store import (
    CorruptFile,
    atomic_write,
    cache_problem,
    sealed_writer,
    unseal,
    write_cache,
)

#: ``loss(model, batch)`` -> scalar tensor, the mean loss of the batch.
LossFn = Callable[[nn.Module, Any], torch.Tensor]
#: ``metric(model)`` -> float, computed after every epoch with the model in eval mode.
MetricFn = Callable[[nn.Module], float]
#: Training batches: an iterable read once per epoch, or ``batches(epoch)`` -> iterable.
Batches = Iterable[Any] | Callable[[int], Iterable[Any]]

#: Version of the checkpoint layout written by :func:`save_checkpoint` (2: sealed files).
CHECKPOINT_FORMAT = 2
#: Environment variable that overrides where :func:`train_or_load` keeps its checkpoints.
CHECKPOINT_DIR_ENV = "LSTM_TUTORIAL_CHECKPOINTS"


class TrainingDiverged(RuntimeError):
    """The loss became NaN or infinite, or grew far above its starting value."""


@dataclass
class History:
    """What :func:`fit` measured, one entry per epoch (plain floats, so it can be saved)."""

    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    metrics: dict[str, list[float]] = field(default_factory=dict)
    seconds: list[float] = field(default_factory=list)

    @property
    def epochs(self) -> int:
        return len(self.train_loss)

    def to_dict(self) -> dict[str, Any]:
        return {
            "train_loss": list(self.train_loss),
            "val_loss": list(self.val_loss),
            "metrics": {k: list(v) for k, v in self.metrics.items()},
            "seconds": list(self.seconds),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> History:
        checks.mapping("data", data)
        checks.no_unknown_keys(
            "data", data, ("train_loss", "val_loss", "metrics", "seconds")
        )
        missing = sorted(
            {"train_loss", "val_loss", "metrics", "seconds"} - set(data)
        )
        if missing:
            raise ValueError(f"data lacks the keys {missing}")
        for key in ("train_loss", "val_loss", "seconds"):
            for k, x in enumerate(
                checks.sequence(f"data[{key!r}]", data[key], empty=True)
            ):
                checks.number(f"data[{key!r}][{k}]", x, finite=False)
        for name, values in checks.mapping(
            "data['metrics']", data["metrics"]
        ).items():
            for k, x in enumerate(
                checks.sequence(
                    f"data['metrics'][{name!r}]", values, empty=True
                )
            ):
                checks.number(
                    f"data['metrics'][{name!r}][{k}]", x, finite=False
                )
        return cls(
            train_loss=[float(x) for x in data["train_loss"]],
            val_loss=[float(x) for x in data["val_loss"]],
            metrics={
                k: [float(x) for x in v] for k, v in data["metrics"].items()
            },
            seconds=[float(x) for x in data["seconds"]],
        )


def default_device() -> torch.device:
    """CUDA if PyTorch sees a GPU, else the CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def model_device(model: nn.Module) -> torch.device:
    """The device of a model's first parameter (the CPU for a model without parameters)."""
    checks.instance("model", model, nn.Module, "a torch.nn.Module")
    first = next(model.parameters(), None)
    return first.device if first is not None else torch.device("cpu")


def to_device(batch: Any, device: torch.device | str) -> Any:
    """Move every tensor in ``batch`` (a tensor, or tuples, lists, dicts of them) to ``device``."""
    device = checks.torch_device("device", device)
    if device is None:
        raise checks.ArgumentTypeError(
            'device must be a device ("cpu", "cuda", a torch.device), got None'
        )
    return _to_device(batch, device)


def _to_device(batch: Any, device: torch.device) -> Any:
    if isinstance(batch, torch.Tensor):
        return batch.to(device)
    if isinstance(batch, tuple | list):
        return type(batch)(_to_device(b, device) for b in batch)
    if isinstance(batch, Mapping):
        return {k: _to_device(v, device) for k, v in batch.items()}
    return batch


@torch.no_grad()
def evaluate_loss(
    model: nn.Module,
    batches: Iterable[Any],
    loss: LossFn,
    device: torch.device | str | None = None,
) -> float:
    """Mean of ``loss(model, batch)`` over ``batches`` (each batch counts once), in eval mode."""
    checks.instance("model", model, nn.Module, "a torch.nn.Module")
    checks.function("loss", loss)
    if not isinstance(batches, Iterable):
        raise checks.ArgumentTypeError(
            f"batches must be an iterable, got {checks.describe(batches)}"
        )
    device = (
        model_device(model)
        if device is None
        else checks.torch_device("device", device)
    )
    was_training = model.training
    model.eval()
    total, count = 0.0, 0
    for batch in batches:
        total += float(loss(model, _to_device(batch, device)))
        count += 1
    model.train(was_training)
    if count == 0:
        raise ValueError("evaluate_loss got no batches")
    return total / count


def _diverged(
    epoch: int,
    step: int,
    value: float,
    first: float,
    limit: float,
    lr: float,
    clip,
):
    what = "is not a number" if math.isnan(value) else f"is {value:.4g}"
    if math.isfinite(value):
        what += f", above {limit:.4g} (the first loss was {first:.4g})"
    return TrainingDiverged(
        f"training diverged at epoch {epoch}, step {step}: the loss {what}. {_advice(lr, clip)}"
    )


def _advice(lr: float, clip: float | None) -> str:
    return (
        f"Try a smaller learning rate (lr={lr:g}), a smaller clip_norm (now {clip}), "
        "or check the inputs for NaN or infinite values."
    )


def _check_finite_parameters(
    model: nn.Module, when: str, lr: float, clip: float | None
) -> None:
    """Raise :class:`TrainingDiverged` if a parameter of ``model`` holds NaN or inf."""
    for name, parameter in model.named_parameters():
        if not bool(torch.isfinite(parameter.detach()).all()):
            raise TrainingDiverged(
                f"training diverged {when}: the parameter {name} holds NaN or inf. "
                f"{_advice(lr, clip)}"
            )


def _check_fit_arguments(
    model,
    train,
    loss,
    epochs,
    lr,
    optimizer,
    val,
    metrics,
    schedule,
    clip_norm,
    device,
    seed,
    diverge_factor,
    log,
    log_every,
) -> None:
    """Every argument of :func:`fit`, checked before the first batch."""
    checks.instance("model", model, nn.Module, "a torch.nn.Module")
    if not callable(train) and not isinstance(train, Iterable):
        raise checks.ArgumentTypeError(
            f"train must be an iterable of batches or a function epoch -> batches, "
            f"got {checks.describe(train)}"
        )
    checks.function("loss", loss)
    checks.positive_int("epochs", epochs)
    checks.positive_number("lr", lr)
    checks.optional(
        checks.instance,
        "optimizer",
        optimizer,
        kind=torch.optim.Optimizer,
        expected="a torch.optim.Optimizer",
    )
    if val is not None and not isinstance(val, Iterable):
        raise checks.ArgumentTypeError(
            f"val must be an iterable of batches or None, got {checks.describe(val)}"
        )
    if metrics is not None:
        checks.mapping("metrics", metrics)
        for name, metric in metrics.items():
            checks.string("metrics key", name)
            checks.function(f"metrics[{name!r}]", metric)
    if optimizer is not None:
        own = {id(p) for p in model.parameters()}
        theirs = [
            p for group in optimizer.param_groups for p in group["params"]
        ]
        if not theirs or any(id(p) not in own for p in theirs):
            raise ValueError(
                "optimizer must update this model's parameters: it was built for other ones "
                "(build it as torch.optim.Adam(model.parameters(), ...))"
            )
    checks.optional(checks.function, "schedule", schedule)
    checks.optional(checks.positive_number, "clip_norm", clip_norm)
    checks.torch_device("device", device)
    checks.optional(checks.seed, "seed", seed)
    checks.optional(
        checks.number,
        "diverge_factor",
        diverge_factor,
        minimum=1.0,
        min_open=True,
    )
    checks.optional(checks.function, "log", log)
    checks.positive_int("log_every", log_every)


def fit(
    model: nn.Module,
    train: Batches,
    *,
    loss: LossFn,
    epochs: int,
    lr: float = 1e-3,
    optimizer: torch.optim.Optimizer | None = None,
    val: Iterable[Any] | None = None,
    metrics: Mapping[str, MetricFn] | None = None,
    schedule: Callable[[int], float] | None = None,
    clip_norm: float | None = 1.0,
    device: torch.device | str | None = None,
    seed: int | None = 0,
    diverge_factor: float | None = 10.0,
    log: Callable[[str], None] | None = print,
    log_every: int = 1,
) -> History:
    """Train ``model`` for ``epochs`` passes over ``train`` and return its :class:`History`.

    Parameters
    ----------
    model:
        Any module; it is moved to ``device`` (in place) and left in eval mode at the end.
    train:
        The training batches: an iterable read once per epoch (a list, a ``DataLoader``),
        or a function ``train(epoch)`` returning that epoch's batches (epochs count from 1),
        e.g. for a curriculum. A batch is anything ``loss`` understands; its tensors are
        moved to ``device`` first.
    loss:
        ``loss(model, batch)`` -> scalar tensor, the batch's mean loss.
    optimizer:
        Defaults to ``torch.optim.Adam(model.parameters(), lr=lr)``.
    schedule:
        ``schedule(epoch)`` -> factor: each epoch runs with the optimizer's initial learning
        rates times this factor (e.g. ``lambda epoch: 0.5 ** (epoch // 5)``); None keeps them.
    val:
        Validation batches; their mean loss is computed after every epoch.
    metrics:
        ``{name: metric(model) -> float}``, computed after every epoch (eval mode, no grad).
    clip_norm:
        Clip the gradients' global norm to this (``clip_grad_norm_``); None to skip.
    device:
        Where to train; defaults to :func:`default_device`.
    seed:
        Passed to :func:`lstm_tutorial.seed_everything` before the first batch, so that data
        shuffling and dropout repeat; None leaves the random state alone. Seed the model's
        initialisation yourself before building it.
    diverge_factor:
        Raise :class:`TrainingDiverged` when a training loss is NaN or infinite, or larger
        than ``diverge_factor`` times the first batch's loss; None checks only for NaN/inf.
    log, log_every:
        Where the progress lines go (``print``; None for silence), every ``log_every`` epochs.
    """
    _check_fit_arguments(**locals())  # every argument, before the first batch
    device = default_device() if device is None else torch.device(device)
    model.to(device)
    if optimizer is None:
        optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    if seed is not None:
        seed_everything(seed)

    initial_lrs = [group["lr"] for group in optimizer.param_groups]
    history = History(metrics={name: [] for name in metrics or {}})
    first_loss: float | None = None
    step = 0
    for epoch in range(1, epochs + 1):
        start = time.perf_counter()
        if schedule is not None:
            factor = checks.positive_number(
                f"schedule({epoch})", schedule(epoch)
            )
            for group, initial in zip(
                optimizer.param_groups, initial_lrs, strict=True
            ):
                group["lr"] = initial * factor
        model.train()
        total, count = 0.0, 0
        for batch in train(epoch) if callable(train) else train:
            batch = _to_device(batch, device)
            value = loss(model, batch)
            step += 1
            current = _loss_value(value, epoch, step)
            first_loss = current if first_loss is None else first_loss
            limit = (
                diverge_factor * abs(first_loss)
                if diverge_factor and first_loss
                else math.inf
            )
            if not math.isfinite(current) or current > limit:
                lr_now = optimizer.param_groups[0]["lr"]
                raise _diverged(
                    epoch, step, current, first_loss, limit, lr_now, clip_norm
                )
            optimizer.zero_grad(set_to_none=True)
            value.backward()
            if clip_norm is not None:
                nn.utils.clip_grad_norm_(model.parameters(), clip_norm)
            _optimizer_step(optimizer, epoch, step, clip_norm)
            total += current
            count += 1
        if count == 0:
            raise ValueError(
                f"the training data gave no batches in epoch {epoch}"
            )
        history.train_loss.append(total / count)
        _end_epoch(
            model,
            history,
            epoch,
            val,
            loss,
            metrics,
            device,
            optimizer,
            clip_norm,
        )
        history.seconds.append(time.perf_counter() - start)
        if log is not None and (epoch % log_every == 0 or epoch == epochs):
            log(_progress_line(history, epochs))
    model.eval()
    return history


def _loss_value(value: Any, epoch: int, step: int) -> float:
    """The float of ``loss(model, batch)``, which must be a scalar tensor (it is
    differentiated)."""
    if not isinstance(value, torch.Tensor) or value.dim() != 0:
        raise checks.ArgumentTypeError(
            f"loss(model, batch) must return a scalar tensor (the batch's mean loss), got "
            f"{checks.describe(value)} at epoch {epoch}, step {step}"
        )
    return float(value.detach())


def _end_epoch(
    model, history, epoch, val, loss, metrics, device, optimizer, clip_norm
) -> None:
    """After an epoch of :func:`fit`: the weights must be finite, then the validation loss
    and the metrics are computed (eval mode, no grad) and recorded, and none may be NaN."""
    lr = optimizer.param_groups[0]["lr"]
    _check_finite_parameters(model, f"in epoch {epoch}", lr, clip_norm)
    if val is not None:
        val_loss = evaluate_loss(model, val, loss, device)
        if not math.isfinite(val_loss):
            raise TrainingDiverged(
                f"training diverged in epoch {epoch}: the validation loss is {val_loss}. "
                f"{_advice(lr, clip_norm)}"
            )
        history.val_loss.append(val_loss)
    model.eval()
    with torch.no_grad():
        for name, metric in (metrics or {}).items():
            value = checks.number(
                f"the metric {name!r} after epoch {epoch}", metric(model)
            )
            history.metrics[name].append(value)


def _optimizer_step(
    optimizer: torch.optim.Optimizer, epoch: int, step: int, clip
) -> None:
    """``optimizer.step()``, with torch's overflow error (a huge learning rate) reported as
    the divergence it is."""
    try:
        optimizer.step()
    except RuntimeError as err:
        if "overflow" not in str(err):
            raise
        lr = optimizer.param_groups[0]["lr"]
        raise TrainingDiverged(
            f"training diverged at epoch {epoch}, step {step}: the update overflowed ({err}). "
            f"{_advice(lr, clip)}"
        ) from None


def _progress_line(history: History, epochs: int) -> str:
    """``epoch  3/10  train 1.234  val 1.301  ppl 3.67  2.1 s`` for the last epoch."""
    epoch = history.epochs
    parts = [
        f"epoch {epoch:>{len(str(epochs))}}/{epochs}",
        f"train {history.train_loss[-1]:.3f}",
    ]
    if history.val_loss:
        parts.append(f"val {history.val_loss[-1]:.3f}")
    parts += [
        f"{name} {values[-1]:.3f}" for name, values in history.metrics.items()
    ]
    parts.append(f"{history.seconds[-1]:.1f} s")
    return "  ".join(parts)


# --------------------------------------------------------------------------- checkpoints


def _check_str_keys(value: Any, where: str) -> None:
    """JSON would turn the key 1 into "1" without a word: refuse keys that are not strings."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise ValueError(
                    f"{where} must have string keys, got the key {key!r}"
                )
            _check_str_keys(item, f"{where}[{key!r}]")
    elif isinstance(value, list | tuple):
        for k, item in enumerate(value):
            _check_str_keys(item, f"{where}[{k}]")


def _plain_config(config: Mapping[str, Any] | None) -> dict[str, Any]:
    """Check that ``config`` is JSON data (str keys; str, int, float, bool, None, lists)."""
    config = {} if config is None else config
    if not isinstance(config, Mapping):
        raise checks.ArgumentTypeError(
            f"config must be a mapping, got {type(config).__name__}"
        )
    _check_str_keys(config, "config")
    try:
        return json.loads(
            json.dumps(dict(config), sort_keys=True, allow_nan=False)
        )
    except (TypeError, ValueError) as err:
        raise ValueError(
            f"config must contain only JSON data (numbers, strings, lists): {err}"
        ) from None


def _checkpoint_payload(
    model: nn.Module, config: Mapping[str, Any] | None, history: History | None
) -> dict[str, Any]:
    """What a checkpoint file holds: the format, the weights, the config and the history."""
    return {
        "format": CHECKPOINT_FORMAT,
        "state_dict": {
            k: v.detach().cpu() for k, v in model.state_dict().items()
        },
        "config": _plain_config(config),
        "history": None if history is None else history.to_dict(),
    }


def save_checkpoint(
    path: str | Path,
    model: nn.Module,
    *,
    config: Mapping[str, Any] | None = None,
    history: History | None = None,
) -> Path:
    """Save ``model.state_dict()`` (on the CPU), ``config`` and ``history`` to ``path``.

    The file is a normal ``torch.save`` archive sealed with the SHA-256 of its bytes
    (:func:`lstm_tutorial.store.seal`), which :func:`load_checkpoint` verifies, and it is
    written atomically (:func:`lstm_tutorial.store.atomic_write`): a reader never sees half
    a file. Returns the path.
    """
    path = _file_path("path", path)
    checks.instance("model", model, nn.Module, "a torch.nn.Module")
    checks.optional(
        checks.instance, "history", history, kind=History, expected="a History"
    )
    _check_finite_parameters(model, "before it was saved", math.nan, None)
    payload = _checkpoint_payload(model, config, history)
    atomic_write(
        path, sealed_writer(lambda buffer: torch.save(payload, buffer))
    )
    return path


def _file_path(name: str, path: Any) -> Path:
    """A path that may name a file: not empty, not an existing folder."""
    path = checks.path(name, path)
    if path.is_dir():
        raise ValueError(f"{name} must be a file, but {path} is a folder")
    return path


def _read_checkpoint(path: Path, map_location: Any) -> dict[str, Any]:
    """The verified payload of the checkpoint at ``path``; :class:`CorruptFile` otherwise."""
    data = unseal(path)
    try:
        payload = torch.load(
            io.BytesIO(data), map_location=map_location, weights_only=True
        )
    except (
        Exception
    ) as err:  # torch raises many kinds for a damaged zip or a pickle
        first = (
            str(err).strip().splitlines()[0][:120] if str(err).strip() else ""
        )
        refused = "Weights only load failed" in str(err)
        what = (
            "holds pickled objects, which are refused"
            if refused
            else "cannot be read"
        )
        raise CorruptFile(
            f"{path} {what} ({type(err).__name__}: {first})"
        ) from None
    if not isinstance(payload, dict) or "format" not in payload:
        raise CorruptFile(
            f"{path} is not a checkpoint written by save_checkpoint"
        )
    if payload["format"] != CHECKPOINT_FORMAT:
        raise CorruptFile(
            f"{path} has checkpoint format {payload['format']!r}, this version reads format "
            f"{CHECKPOINT_FORMAT} (an older file: delete it, or let train_or_load retrain)"
        )
    missing = {"state_dict", "config", "history"} - set(payload)
    if missing:
        raise CorruptFile(f"{path} lacks the entries {sorted(missing)}")
    return payload


def load_checkpoint(
    path: str | Path,
    model: nn.Module | None = None,
    *,
    map_location: str = "cpu",
) -> dict[str, Any]:
    """Read a checkpoint with ``torch.load(..., weights_only=True)``; load it into ``model``.

    Returns ``{"state_dict", "config", "history"}`` (``history`` as a :class:`History` or
    None). Raises FileNotFoundError for a missing file, and a ValueError naming the file
    (:class:`lstm_tutorial.store.CorruptFile`) for an empty, truncated or damaged file, one
    whose content does not match its digest, one of another format, one holding pickled
    objects, or one that does not fit ``model``.
    """
    path = checks.path("path", path)
    checks.optional(
        checks.instance,
        "model",
        model,
        kind=nn.Module,
        expected="a torch.nn.Module",
    )
    map_location = checks.torch_device("map_location", map_location)
    payload = _read_checkpoint(path, map_location)
    if model is not None:
        try:
            model.load_state_dict(payload["state_dict"])
        except (RuntimeError, TypeError, AttributeError) as err:
            first = str(err).strip().splitlines()[0]
            raise CorruptFile(
                f"the checkpoint {path} does not fit this model (delete it to retrain): {first}"
            ) from None
    history = payload["history"]
    try:
        history = None if history is None else History.from_dict(history)
    except (KeyError, TypeError, ValueError, AttributeError) as err:
        raise CorruptFile(
            f"{path} holds a damaged history ({type(err).__name__}: {err})"
        ) from None
    if not isinstance(payload["config"], dict):
        raise CorruptFile(f"{path} holds a config that is not a dict")
    return {
        "state_dict": payload["state_dict"],
        "config": payload["config"],
        "history": history,
    }


def config_key(config: Mapping[str, Any]) -> str:
    """A short hash of ``config`` (12 hex digits): equal configs give equal keys."""
    text = json.dumps(
        _plain_config(config), sort_keys=True, separators=(",", ":")
    )
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def default_checkpoint_dir() -> Path:
    """``$LSTM_TUTORIAL_CHECKPOINTS`` if set, else ``book/part3_pytorch/checkpoints`` of this
    repository (git-ignored), else ``./checkpoints``."""
    if os.environ.get(CHECKPOINT_DIR_ENV):
        return Path(os.environ[CHECKPOINT_DIR_ENV])
    book = Path(__file__).resolve().parents[1] / "book"
    return (
        book / "part3_pytorch" / "checkpoints"
        if book.is_dir()
        else Path("checkpoints")
    )


def checkpoint_path(
    name: str, config: Mapping[str, Any], directory: str | Path | None = None
) -> Path:
    """Where :func:`train_or_load` keeps the model ``name`` trained with ``config``."""
    checks.string("name", name)
    if not all(ch.isalnum() or ch in "-_" for ch in name):
        raise ValueError(
            f"name must be letters, digits, '-' or '_', got {name!r}"
        )
    checks.mapping("config", config)
    directory = (
        default_checkpoint_dir()
        if directory is None
        else checks.path("directory", directory)
    )
    return directory / f"{name}-{config_key(config)}.pt"


def train_or_load(
    name: str,
    config: Mapping[str, Any],
    build: Callable[[], nn.Module],
    train: Callable[[nn.Module, torch.device], History],
    *,
    directory: str | Path | None = None,
    device: torch.device | str | None = None,
    log: Callable[[str], None] | None = print,
) -> tuple[nn.Module, History]:
    """Return the model ``name`` trained with ``config``: loaded if cached, else trained.

    ``build()`` makes a fresh model; it is called right after
    ``seed_everything(config.get("seed", 0))``, so the initial weights repeat.
    ``train(model, device)`` trains it (usually with :func:`fit`) and returns its history.
    ``config`` must hold everything that changes the result: the cache file is named after
    its hash (see :func:`checkpoint_path`). A trained model is saved atomically, so
    notebooks running side by side never read a partial file. The model is returned on
    ``device`` (default :func:`default_device`) in eval mode.
    """
    checks.function("build", build)
    checks.function("train", train)
    checks.optional(checks.function, "log", log)
    path = checkpoint_path(name, config, directory)
    device = (
        default_device()
        if device is None
        else checks.torch_device("device", device)
    )
    seed = checks.seed("config['seed']", config.get("seed", 0))
    seed_everything(seed)
    model = build()
    checks.instance("build()", model, nn.Module, "a torch.nn.Module")
    if path.exists():
        try:
            stored = load_checkpoint(path, model)
            if stored["config"] != _plain_config(config | {"__name__": name}):
                raise CorruptFile(
                    f"{path} holds a model of another name or config"
                )
        except (CorruptFile, OSError) as err:
            cache_problem(path, err, log)
            seed_everything(seed)
            model = build()  # the failed load may have written into it
        else:
            model.to(device).eval()
            if log is not None:
                log(f"loaded {path.parent.name}/{path.name}")
            return model, stored["history"] or History()
    history = train(model, device)
    checks.instance("train(model, device)", history, History, "a History")
    _check_finite_parameters(model, "by the end of training", math.nan, None)
    payload = _checkpoint_payload(
        model, dict(config) | {"__name__": name}, history
    )
    write_cache(path, sealed_writer(lambda buffer: torch.save(payload, buffer)))
    model.eval()
    return model, history
