"""The harness of the bad-input tests: a valid call, then one argument at a time made wrong.

A test module lists valid calls of its module's public functions as :class:`Call` objects,
each saying what kind of value every checked argument is (``"positive_int"``, ``"float"``,
``"float_array"``, ...). :func:`cases` expands them into one pytest case per (call,
argument, bad value), drawn from :data:`MUTATIONS`: the mistakes people make with that kind
of value (a bool for a number, 2.0 for a count, a list for an array, a negative id, inf...).
:func:`check_case` asserts that every one raises TypeError or ValueError *naming the
argument*, so a message from deep inside NumPy or torch fails the test.

The mutations are a principle, not a list of the bugs fixed: a new function that lists its
call here gets all of them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pytest
import torch

Mutation = Callable[[Any], list[tuple[str, Any]]]


def _ints(minimum: int, optional: bool = False) -> Mutation:
    def bad(valid: Any) -> list[tuple[str, Any]]:
        base = (
            minimum + 1 if valid is None else valid
        )  # an optional argument given as None
        out = [
            ("bool", True),
            ("float", float(base) + 0.5),
            ("whole float", float(base)),
        ]
        out += [("str", str(base)), ("below minimum", minimum - 1)]
        if not optional:
            out.append(("None", None))
        return out

    return bad


def _floats(
    minimum: float | None, maximum: float | None, open_low: bool
) -> Mutation:
    def bad(valid: Any) -> list[tuple[str, Any]]:
        out = [
            ("bool", True),
            ("str", str(valid)),
            ("None", None),
            ("nan", math.nan),
        ]
        out += [("inf", math.inf), ("-inf", -math.inf), ("list", [valid])]
        out.append(("int too large for a float", 10**400))
        if minimum is not None:
            out.append(
                ("below minimum", minimum if open_low else minimum - 0.5)
            )
        if maximum is not None:
            out.append(("above maximum", maximum + 0.5))
        return out

    return bad


def _optional(mutation: Mutation) -> Mutation:
    return lambda valid: [
        (label, v) for label, v in mutation(valid) if v is not None
    ]


def _float_array(valid: np.ndarray) -> list[tuple[str, Any]]:
    other = np.float64 if valid.dtype == np.float32 else np.float32
    out = [
        ("list", valid.tolist()),
        ("other float dtype", valid.astype(other)),
        ("int dtype", valid.astype(np.int64)),
        ("extra dimension", valid[None]),
        ("tensor", torch.from_numpy(valid.copy())),
        ("None", None),
    ]
    if valid.ndim >= 1 and valid.shape[0] > 1:
        out.append(("one row fewer", valid[1:]))
    return out


def _float_array_any_dtype(valid: np.ndarray) -> list[tuple[str, Any]]:
    """A float array whose dtype is free (float32 or float64)."""
    return [
        (label, v)
        for label, v in _float_array(valid)
        if label not in ("other float dtype",)
    ]


def _id_array(vocab_size: int) -> Mutation:
    def bad(valid: np.ndarray) -> list[tuple[str, Any]]:
        negative, too_big = valid.copy(), valid.copy()
        negative.flat[0], too_big.flat[-1] = -1, vocab_size
        return [
            ("negative id", negative),
            ("id == vocab size", too_big),
            ("float ids", valid.astype(np.float64)),
            ("bool ids", valid.astype(bool)),
            ("empty", valid[..., :0]),
            ("None", None),
        ]

    return bad


def _float_tensor(valid: torch.Tensor) -> list[tuple[str, Any]]:
    other = torch.float64 if valid.dtype == torch.float32 else torch.float32
    return [
        ("numpy", valid.detach().numpy().copy()),
        ("list", valid.tolist()),
        ("other float dtype", valid.to(other)),
        ("extra dimension", valid[None]),
        ("None", None),
    ]


def _id_tensor(vocab_size: int) -> Mutation:
    def bad(valid: torch.Tensor) -> list[tuple[str, Any]]:
        negative, too_big = valid.clone(), valid.clone()
        negative.view(-1)[0], too_big.view(-1)[-1] = -1, vocab_size
        return [
            ("negative id", negative),
            ("id == vocab size", too_big),
            ("numpy", valid.numpy().copy()),
            ("list", valid.tolist()),
            ("int32", valid.to(torch.int32)),
            ("float", valid.to(torch.float32)),
            ("None", None),
        ]

    return bad


#: kind -> mutation(valid value) -> [(label, bad value)]. Kinds with a parameter are
#: functions of it, e.g. ``ids(27)`` for ids of a vocabulary of 27.
MUTATIONS: dict[str, Mutation] = {
    "positive_int": _ints(1),
    "count": _ints(0),
    "optional_positive_int": _ints(1, optional=True),
    "optional_count": _ints(0, optional=True),
    "seed": lambda valid: [*_ints(0)(valid), ("above 2**63 - 1", 2**63)],
    "positive": _floats(0.0, None, open_low=True),
    "optional_positive": _optional(_floats(0.0, None, open_low=True)),
    "number": _floats(None, None, open_low=False),
    "optional_number": _optional(_floats(None, None, open_low=False)),
    "fraction": _floats(0.0, 1.0, open_low=False),
    "open_fraction": _floats(0.0, 1.0, open_low=True),
    "bool": lambda valid: [
        ("int", int(valid)),
        ("str", str(valid)),
        ("None", None),
    ],
    "str": lambda valid: [
        ("int", 3),
        ("None", None),
        ("bytes", str(valid).encode()),
    ],
    "rng": lambda valid: [
        ("str", "rng"),
        ("None", None),
        ("legacy RandomState", np.random.RandomState(0)),
    ],
    "optional_rng": lambda valid: [
        ("str", "rng"),
        ("legacy RandomState", np.random.RandomState(0)),
    ],
    "np_dtype": lambda valid: [
        ("torch dtype", torch.float32),
        ("int dtype", np.int32),
        ("None", None),
        ("str", "float16"),
    ],
    "torch_dtype": lambda valid: [
        ("numpy dtype", np.float32),
        ("str", "float32"),
        ("int", torch.int64),
    ],
    "callable": lambda valid: [("int", 3), ("str", "f")],
    "float_array": _float_array,
    "float_array_any": _float_array_any_dtype,
    "float_tensor": _float_tensor,
}


def ids(vocab_size: int) -> Mutation:
    """The mutation kind of a NumPy id array of a vocabulary of ``vocab_size``."""
    return _id_array(vocab_size)


def id_tensor(vocab_size: int) -> Mutation:
    """The mutation kind of an int64 id tensor of a vocabulary of ``vocab_size``."""
    return _id_tensor(vocab_size)


@dataclass
class Call:
    """A valid call ``fn(**kwargs)`` (``make()`` builds fresh kwargs for every case, so a
    mutation never leaks into the next) and the kind of each argument to mutate.

    ``kinds`` maps an argument name to a key of :data:`MUTATIONS` or a mutation function;
    ``names`` optionally maps an argument to the name its error message must contain (by
    default the argument's own name); ``skip`` lists "arg:label" pairs that are valid for
    this function (with the reason in a comment where they are listed).
    """

    fn: Callable[..., Any]
    make: Callable[[], dict[str, Any]]
    kinds: dict[str, str | Mutation]
    label: str | None = None
    names: dict[str, str] = field(default_factory=dict)
    skip: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        return self.label or getattr(self.fn, "__qualname__", repr(self.fn))


def cases(calls: list[Call]) -> list[Any]:
    """One ``pytest.param(call, arg, bad)`` per argument and mutation, with readable ids."""
    out = []
    for call in calls:
        valid = call.make()
        for arg, kind in call.kinds.items():
            mutate = MUTATIONS[kind] if isinstance(kind, str) else kind
            if arg not in valid:
                raise KeyError(
                    f"{call.id}: {arg!r} is not among the valid call's arguments"
                )
            for label, _ in mutate(valid[arg]):
                if f"{arg}:{label}" in call.skip:
                    continue
                out.append(
                    pytest.param(
                        call, arg, label, id=f"{call.id}-{arg}-{label}"
                    )
                )
    return out


def valid_calls(calls: list[Call]) -> list[Any]:
    return [pytest.param(call, id=call.id) for call in calls]


def check_valid(call: Call) -> None:
    """The unmutated call must work: otherwise every mutation test would pass vacuously."""
    call.fn(**call.make())


def check_case(call: Call, arg: str, label: str) -> None:
    """The call with ``arg`` replaced by its ``label`` mutation raises TypeError or
    ValueError whose message names the argument."""
    kwargs = call.make()
    kind = call.kinds[arg]
    mutate = MUTATIONS[kind] if isinstance(kind, str) else kind
    bad = dict(mutate(kwargs[arg]))[label]
    kwargs[arg] = bad
    with pytest.raises((TypeError, ValueError)) as info:
        call.fn(**kwargs)
    expected = call.names.get(arg, arg)
    message = str(info.value)
    whole_word = rf"(?<![A-Za-z0-9_]){re.escape(expected)}(?![A-Za-z0-9_])"
    assert re.search(whole_word, message), (
        f"{call.id}({arg}={label}) raised {type(info.value).__name__}: {message!r}, "
        f"which does not name {expected!r}"
    )


def public_api(module):
    """The public functions and classes defined in ``module``, and the classes' methods."""
    names = []
    for name, obj in vars(module).items():
        if (
            name.startswith("_")
            or getattr(obj, "__module__", None) != module.__name__
        ):
            continue
        if isinstance(obj, type):
            if obj.__dict__.get(
                "_is_protocol"
            ):  # an interface: nothing to call
                continue
            names.append(name)
            for attr, member in vars(obj).items():
                function = getattr(member, "__func__", member)
                if not attr.startswith("_") and callable(function):
                    names.append(f"{name}.{attr}")
        elif callable(obj):
            names.append(name)
    return names


def uncovered(module, call_ids, unchecked) -> set[str]:
    """The names of ``public_api(module)`` with no Call among ``call_ids`` and no
    stated exemption (``"module.name"`` in ``unchecked``)."""
    short = module.__name__.rsplit(".", 1)[-1]
    return {
        n
        for n in public_api(module)
        if n not in call_ids and f"{short}.{n}" not in unchecked
    }
