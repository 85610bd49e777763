"""Argument checks shared by every module: one place that turns a bad input into a clear error.

The principle, applied by every public function, class, config and command of the package:

- **Check before working.** Every argument is checked when it comes in, before anything is
  computed, trained or written, so a mistake costs nothing and never leaves half a result.
- **Name the argument and say what was expected.** ``hidden_size must be an integer >= 1,
  got 2.5 (a float)``: the message names the argument, the expectation and what came.
- **Wrong kind of thing: TypeError. Right kind, wrong value: ValueError.** A wrong kind
  raises :class:`ArgumentTypeError`, which is both a TypeError and a ValueError, so code
  that catches either keeps working.
- **Nothing is converted behind the caller's back.** ``True`` is not the number 1, ``2.0``
  is not a count, ``"float32"`` is not a NumPy dtype unless the function says so, a float64
  array is not cast to float32, a negative id does not wrap to the last class, a batch of
  the wrong size is not broadcast, and a list is refused where an array is expected (the
  message says how to convert it).
- **Numbers are finite** unless a function says otherwise: ``lr=inf`` and ``nan`` are errors.

The teaching functions that a chapter shows line by line (one gate, one cell step) stay
short and unchecked; every public entry point that reaches them checks first. Each module's
docstring says which of its functions check their inputs.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Collection, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

T = TypeVar("T")


class ArgumentTypeError(TypeError, ValueError):
    """An argument of the wrong kind: a TypeError, and a ValueError for older callers."""


def describe(value: Any) -> str:
    """``2.5 (a float)``: a value and its type, short enough for an error message."""
    text = repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    if isinstance(value, np.ndarray):
        return f"an array of dtype {value.dtype} and shape {value.shape}"
    if is_tensor(value):
        return f"a tensor of dtype {value.dtype} and shape {tuple(value.shape)}"
    kind = type(value).__name__
    article = "an" if kind[:1].lower() in "aeiou" else "a"
    return f"{text} ({article} {kind})"


def _fail_type(name: str, expected: str, value: Any) -> ArgumentTypeError:
    return ArgumentTypeError(
        f"{name} must be {expected}, got {describe(value)}"
    )


def _fail_value(name: str, expected: str, value: Any) -> ValueError:
    return ValueError(f"{name} must be {expected}, got {describe(value)}")


def _bounds_text(
    minimum: Any, maximum: Any, min_open: bool = False, max_open: bool = False
) -> str:
    def show(x: Any) -> str:
        return str(x) if isinstance(x, int) else f"{x:g}"

    low = (
        None
        if minimum is None
        else f"{'>' if min_open else '>='} {show(minimum)}"
    )
    high = (
        None
        if maximum is None
        else f"{'<' if max_open else '<='} {show(maximum)}"
    )
    if low and high:
        left = "(" if min_open else "["
        right = ")" if max_open else "]"
        return f" in {left}{show(minimum)}, {show(maximum)}{right}"
    return f" {low or high}" if (low or high) else ""


# ------------------------------------------------------------------------------ scalars


def integer(
    name: str,
    value: Any,
    *,
    minimum: int | None = None,
    maximum: int | None = None,
) -> int:
    """``value`` as a Python int: an int or NumPy integer (not a bool, not a float such as
    2.0) within ``[minimum, maximum]``."""
    expected = "an integer" + _bounds_text(minimum, maximum)
    if isinstance(value, bool | np.bool_) or not isinstance(
        value, numbers.Integral
    ):
        raise _fail_type(name, expected, value)
    value = int(value)
    if (minimum is not None and value < minimum) or (
        maximum is not None and value > maximum
    ):
        raise _fail_value(name, expected, value)
    return value


def positive_int(name: str, value: Any) -> int:
    """An integer >= 1: a size, a number of steps or of layers."""
    return integer(name, value, minimum=1)


def count(name: str, value: Any) -> int:
    """An integer >= 0: how many of something, where none is allowed."""
    return integer(name, value, minimum=0)


#: The largest seed every generator takes (torch's is a signed 64-bit number).
MAX_SEED = 2**63 - 1


def seed(name: str, value: Any) -> int:
    """A random seed: an integer in [0, 2**63 - 1], which Python, NumPy and torch all take."""
    return integer(name, value, minimum=0, maximum=MAX_SEED)


def number(
    name: str,
    value: Any,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    min_open: bool = False,
    max_open: bool = False,
    finite: bool = True,
) -> float:
    """``value`` as a float: a real number (int, float or NumPy scalar, not a bool or a
    string), finite unless ``finite=False``, within the bounds (open where ``*_open``)."""
    expected = ("a finite number" if finite else "a number") + _bounds_text(
        minimum, maximum, min_open, max_open
    )
    if isinstance(value, bool | np.bool_) or not isinstance(
        value, numbers.Real
    ):
        raise _fail_type(name, expected, value)
    try:
        value = float(value)
    except OverflowError:  # an int too large for a float, such as 10**400
        raise _fail_value(name, expected, value) from None
    if math.isnan(value) or (finite and math.isinf(value)):
        raise _fail_value(name, expected, value)
    below = minimum is not None and (
        value <= minimum if min_open else value < minimum
    )
    above = maximum is not None and (
        value >= maximum if max_open else value > maximum
    )
    if below or above:
        raise _fail_value(name, expected, value)
    return value


def positive_number(name: str, value: Any) -> float:
    """A finite number > 0: a learning rate, a temperature, a clipping threshold."""
    return number(name, value, minimum=0.0, min_open=True)


def fraction(
    name: str, value: Any, *, open_low: bool = False, open_high: bool = False
) -> float:
    """A number in [0, 1] (ends excluded where asked): a probability, a share of data."""
    return number(
        name,
        value,
        minimum=0.0,
        maximum=1.0,
        min_open=open_low,
        max_open=open_high,
    )


def boolean(name: str, value: Any) -> bool:
    """True or False (a NumPy bool too); not 0, 1 or a string."""
    if not isinstance(value, bool | np.bool_):
        raise _fail_type(name, "True or False", value)
    return bool(value)


def string(name: str, value: Any, *, empty: bool = False) -> str:
    """A str, non-empty unless ``empty=True``."""
    if not isinstance(value, str):
        raise _fail_type(name, "a string", value)
    if not empty and not value:
        raise _fail_value(name, "a non-empty string", value)
    return value


def choice(name: str, value: Any, options: Collection[Any]) -> Any:
    """One of ``options``, of the same type as the option it equals (so True is not 1)."""
    options = tuple(options)
    if not any(
        type(value) is type(option) and value == option for option in options
    ):
        shown = ", ".join(repr(o) for o in options)
        raise _fail_value(name, f"one of {shown}", value)
    return value


def function(name: str, value: Any) -> Callable[..., Any]:
    """Something callable."""
    if not callable(value):
        raise _fail_type(name, "a function (callable)", value)
    return value


def optional(
    check: Callable[..., T], name: str, value: Any, **options: Any
) -> T | None:
    """None, or whatever ``check(name, value, **options)`` accepts."""
    return None if value is None else check(name, value, **options)


def instance(
    name: str, value: Any, kind: type | tuple[type, ...], expected: str
) -> Any:
    """An instance of ``kind``; ``expected`` says what in words (``"a CharVocab"``)."""
    if not isinstance(value, kind):
        raise _fail_type(name, expected, value)
    return value


def mapping(name: str, value: Any) -> Mapping[Any, Any]:
    """A dict or other Mapping."""
    return instance(name, value, Mapping, "a mapping (a dict)")


def sequence(name: str, value: Any, *, empty: bool = False) -> Sequence[Any]:
    """A list or tuple (not a string, not a mapping), non-empty unless ``empty=True``."""
    if isinstance(value, str | bytes | Mapping) or not isinstance(
        value, Sequence
    ):
        raise _fail_type(name, "a list or tuple", value)
    if not empty and len(value) == 0:
        raise _fail_value(name, "a non-empty list or tuple", value)
    return value


def argv(name: str, value: Any) -> list[str] | None:
    """A command line's arguments: None (``sys.argv`` then), or a list or tuple of
    strings (each may be empty)."""
    if value is None:
        return None
    for k, arg in enumerate(sequence(name, value, empty=True)):
        string(f"{name}[{k}]", arg, empty=True)
    return list(value)


def path(name: str, value: Any) -> Path:
    """A str or os.PathLike, as a Path (not empty)."""
    if isinstance(value, str):
        if not value or "\0" in value:
            raise _fail_value(
                name, "a non-empty path without NUL characters", value
            )
        return Path(value)
    if isinstance(value, Path):
        return value
    try:
        return Path(value)
    except TypeError:
        raise _fail_type(name, "a path (str or pathlib.Path)", value) from None


def rng(name: str, value: Any) -> np.random.Generator:
    """A ``numpy.random.Generator`` (``np.random.default_rng(seed)``)."""
    return instance(
        name,
        value,
        np.random.Generator,
        "a numpy.random.Generator (np.random.default_rng(seed))",
    )


def seed_or_rng(name: str, value: Any) -> np.random.Generator:
    """An integer seed >= 0 or a Generator; returns a Generator."""
    if isinstance(value, np.random.Generator):
        return value
    if isinstance(value, bool | np.bool_) or not isinstance(
        value, numbers.Integral
    ):
        raise _fail_type(
            name, "an integer seed >= 0 or a numpy.random.Generator", value
        )
    return np.random.default_rng(seed(name, value))


# ------------------------------------------------------------------------------- dtypes

#: The floating dtypes the NumPy models compute in.
NUMPY_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))


def numpy_float_dtype(
    name: str, value: Any, *, strings: bool = False
) -> np.dtype:
    """np.float32 or np.float64 (or their np.dtype); with ``strings=True`` also "float32"
    and "float64". A torch dtype, None or any other value is refused."""
    is_string = isinstance(value, str)
    expected = "np.float32 or np.float64" + (
        ' (or "float32", "float64")' if strings else ""
    )
    ok_kind = (
        (isinstance(value, type) and issubclass(value, np.generic))
        or isinstance(value, np.dtype)
        or (strings and is_string)
    )
    if not ok_kind:
        raise _fail_type(name, expected, value)
    try:
        dtype = np.dtype(value)
    except TypeError:
        raise _fail_value(name, expected, value) from None
    if dtype not in NUMPY_FLOATS:
        raise _fail_value(name, expected, value)
    return dtype


def torch_float_dtype(name: str, value: Any) -> Any:
    """None (torch's default) or a floating torch dtype (torch.float32, torch.float64, ...).
    A NumPy dtype or a string is refused."""
    import torch

    if value is None:
        return None
    if not isinstance(value, torch.dtype):
        raise _fail_type(
            name,
            "a floating torch dtype (torch.float32, torch.float64) or None",
            value,
        )
    if not value.is_floating_point:
        raise _fail_value(
            name,
            "a floating torch dtype (torch.float32, torch.float64) or None",
            value,
        )
    return value


def torch_device(name: str, value: Any) -> Any:
    """None, a str such as "cpu" or "cuda:0", or a torch.device; returned as a torch.device
    (or None). An unknown device name is a ValueError."""
    import torch

    if value is None:
        return None
    if not isinstance(value, str | torch.device):
        raise _fail_type(
            name, 'a device ("cpu", "cuda", a torch.device) or None', value
        )
    try:
        device = torch.device(value)
    except RuntimeError:
        raise _fail_value(
            name, 'a device ("cpu", "cuda", a torch.device) or None', value
        ) from None
    available = {"cpu": True, "meta": True, "cuda": torch.cuda.is_available()}
    if device.type == "mps":
        available["mps"] = torch.backends.mps.is_available()
    if not available.get(device.type, True):
        raise ValueError(
            f"{name}={value!r} is not available here: torch sees no {device.type} device"
        )
    return device


# ------------------------------------------------------------------------------- arrays


def _shape_text(shape: Sequence[int | None]) -> str:
    return (
        "("
        + ", ".join("?" if s is None else str(s) for s in shape)
        + ("," if len(shape) == 1 else "")
        + ")"
    )


def array(
    name: str,
    value: Any,
    *,
    dtype: np.dtype | type | None = None,
    kind: str | None = None,
    ndim: int | Collection[int] | None = None,
    shape: Sequence[int | None] | None = None,
    nonempty: bool = True,
    finite: bool = False,
) -> np.ndarray:
    """A NumPy array, checked and returned as it is (no copy, no cast).

    ``dtype``: exactly this dtype; ``kind``: "float" or "int" (any width); ``ndim``: a
    number of dimensions or a set of them; ``shape``: exact sizes, None for any; ``nonempty``:
    at least one element; ``finite``: no NaN or inf. A list or a tensor is refused with a hint
    (``np.asarray(...)``, ``.numpy()``).
    """
    if not isinstance(value, np.ndarray):
        hint = ""
        if isinstance(value, list | tuple):
            hint = f"; convert it with np.asarray({name}{', dtype=...' if dtype else ''})"
        elif is_tensor(value):
            hint = f"; convert it with {name}.detach().cpu().numpy()"
        raise ArgumentTypeError(
            f"{name} must be a NumPy array, got {describe(value)}{hint}"
        )
    if dtype is not None and value.dtype != np.dtype(dtype):
        raise ArgumentTypeError(
            f"{name} must have dtype {np.dtype(dtype)}, got {value.dtype}; nothing is cast "
            f"silently: use {name}.astype(np.{np.dtype(dtype)})"
        )
    if kind == "float" and not np.issubdtype(value.dtype, np.floating):
        raise ArgumentTypeError(
            f"{name} must be a floating-point array, got dtype {value.dtype}"
        )
    if kind == "int" and not np.issubdtype(value.dtype, np.integer):
        raise ArgumentTypeError(
            f"{name} must be an integer array, got dtype {value.dtype}"
        )
    _check_dims(name, tuple(value.shape), ndim, shape, nonempty)
    if finite and value.size and not np.isfinite(value).all():
        raise ValueError(
            f"{name} must hold finite numbers, but it contains NaN or inf"
        )
    return value


def _check_dims(name, got, ndim, shape, nonempty) -> None:
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if len(got) not in allowed:
            what = " or ".join(str(n) for n in allowed)
            noun = "dimension" if allowed == (1,) else "dimensions"
            raise ValueError(f"{name} must have {what} {noun}, got shape {got}")
    if shape is not None:
        if len(got) != len(shape) or any(
            s is not None and s != g for s, g in zip(shape, got, strict=True)
        ):
            raise ValueError(
                f"{name} must have shape {_shape_text(shape)}, got {got}"
            )
    if nonempty and 0 in got:
        raise ValueError(f"{name} must not be empty, got shape {got}")


def ids(
    name: str,
    value: Any,
    vocab_size: int,
    *,
    ndim: int | Collection[int] | None = None,
    nonempty: bool = True,
    lists: bool = True,
) -> np.ndarray:
    """Token or class ids in [0, vocab_size) as an integer NumPy array.

    A list of ints is accepted when ``lists`` (it becomes int64); floats, bools, negative ids
    (which NumPy would wrap to the last class) and ids >= ``vocab_size`` are errors.
    """
    if lists and isinstance(value, list | tuple) and not is_tensor(value):
        if any(
            isinstance(v, bool | np.bool_)
            for v in np.ravel(np.asarray(value, dtype=object))
        ):
            raise ArgumentTypeError(
                f"{name} must hold integer ids, got booleans"
            )
        try:
            converted = np.asarray(value)
        except ValueError:  # ragged nested lists
            raise ValueError(
                f"{name} must be a rectangular array of ids, got ragged lists"
            ) from None
        if converted.size == 0:
            converted = converted.astype(np.int64)
        value = converted
    value = array(name, value, ndim=ndim, nonempty=nonempty)
    if not np.issubdtype(value.dtype, np.integer):
        raise ArgumentTypeError(
            f"{name} must hold integer ids, got dtype {value.dtype}"
        )
    _id_range(name, value, vocab_size)
    return value


def _id_range(name: str, value: Any, vocab_size: int) -> None:
    if value.size == 0:
        return
    low, high = int(value.min()), int(value.max())
    if low < 0 or high >= vocab_size:
        bad = low if low < 0 else high
        raise ValueError(
            f"{name} must hold ids in [0, {vocab_size}) (the vocabulary size is {vocab_size}), "
            f"got {bad}"
        )


# ------------------------------------------------------------------------------ tensors


def is_tensor(value: Any) -> bool:
    """Whether ``value`` is a torch tensor, without importing torch (NumPy-only code asks)."""
    module = type(value).__module__
    return (
        module.startswith("torch")
        and hasattr(value, "detach")
        and hasattr(value, "dtype")
    )


def tensor(
    name: str,
    value: Any,
    *,
    dtype: Any = None,
    floating: bool = False,
    ndim: int | Collection[int] | None = None,
    shape: Sequence[int | None] | None = None,
    nonempty: bool = True,
    like: Any = None,
) -> Any:
    """A torch.Tensor, checked and returned as it is. ``dtype``: exactly this dtype;
    ``floating``: any floating dtype; ``like``: the dtype and device of this tensor (a
    model's parameter); ``ndim``, ``shape``, ``nonempty`` as in :func:`array`."""
    import torch

    if not isinstance(value, torch.Tensor):
        hint = ""
        if isinstance(value, np.ndarray):
            hint = f"; convert it with torch.from_numpy({name})"
        elif isinstance(value, list | tuple):
            hint = f"; convert it with torch.tensor({name})"
        raise ArgumentTypeError(
            f"{name} must be a torch.Tensor, got {describe(value)}{hint}"
        )
    if like is not None:
        if value.dtype != like.dtype:
            raise ArgumentTypeError(
                f"{name} has dtype {value.dtype} but the model's parameters are {like.dtype}; "
                f"nothing is cast silently: use {name}.to({like.dtype}) or model.to({value.dtype})"
            )
        if value.device != like.device:
            raise ValueError(
                f"{name} is on device {value.device} but the model's parameters are on "
                f"{like.device}; move one of them with .to(device)"
            )
    if dtype is not None and value.dtype != dtype:
        raise ArgumentTypeError(
            f"{name} must have dtype {dtype}, got {value.dtype}"
        )
    if floating and not value.is_floating_point():
        raise ArgumentTypeError(
            f"{name} must be a floating-point tensor, got dtype {value.dtype}"
        )
    _check_dims(name, tuple(value.shape), ndim, shape, nonempty)
    return value


def id_tensor(
    name: str,
    value: Any,
    vocab_size: int,
    *,
    ndim: int | Collection[int] | None = 2,
    nonempty: bool = True,
) -> Any:
    """An int64 tensor of ids in [0, vocab_size), (B, T) by default. A NumPy array gets a
    hint (``torch.from_numpy``); negative or too large ids are errors, not wrapped around or
    left to fail deep inside an embedding."""
    import torch

    value = tensor(name, value, ndim=ndim, nonempty=nonempty)
    if value.dtype != torch.int64:
        raise ArgumentTypeError(
            f"{name} must be an int64 tensor of token ids, got dtype {value.dtype}; "
            f"use {name}.long()"
        )
    _id_range(name, value, vocab_size)
    return value


def fits_dtype(name: str, value: Any, dtype: Any) -> None:
    """Refuse a finite number or array that overflows to inf in ``dtype`` (a NumPy or torch
    floating dtype): 1e39 is a fine float64 but not a float32."""
    if type(dtype).__module__ == "torch":  # a torch.dtype
        import torch

        limit = float(torch.finfo(dtype).max)
    else:
        limit = float(np.finfo(dtype).max)
    biggest = (
        float(np.max(np.abs(np.asarray(value, dtype=np.float64))))
        if np.size(value)
        else 0.0
    )
    if biggest > limit:
        raise ValueError(
            f"{name} holds {biggest:.3g}, too large for {dtype} (at most {limit:.3g}): it would "
            "become inf"
        )


def finite_tensor(name: str, value: Any) -> Any:
    """Refuse a tensor that holds NaN or inf."""
    import torch

    if value.numel() and not bool(torch.isfinite(value).all()):
        raise ValueError(
            f"{name} must hold finite numbers, but it contains NaN or inf"
        )
    return value


# ------------------------------------------------------------------------------ configs


def config_fields(
    config: Any,
    checks: Mapping[str, Callable[[str, Any], Any]],
    *,
    where: str | None = None,
) -> None:
    """Check every field of a config dataclass at once, before it is used: ``checks`` maps
    a field name to ``check(name, value)`` (one of this module's functions, or a lambda
    around one). The message names the config and the field: ``TrainConfig.lr must be ...``.
    """
    owner = where or type(config).__name__
    for field_name, check in checks.items():
        check(f"{owner}.{field_name}", getattr(config, field_name))


def no_unknown_keys(
    name: str, given: Collection[str], known: Collection[str]
) -> None:
    """Refuse keys that are not in ``known`` (a typo would otherwise be ignored)."""
    unknown = sorted(set(given) - set(known), key=str)
    if unknown:
        raise ValueError(
            f"{name} has unknown keys {unknown}; known: {sorted(known, key=str)}"
        )
