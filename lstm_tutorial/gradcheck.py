"""Check an analytic gradient against central finite differences.

Works on any scalar function of NumPy arrays: ``f(**params) -> float``. Each entry of each
array is nudged by ``+eps`` and ``-eps`` and the slope ``(f(+) - f(-)) / (2 eps)`` is compared
with the analytic gradient. The error of entry ``k`` is measured relative to the size of both
numbers, ``|a - n| / max(|a| + |n|, floor)``, so that tiny gradients are not judged by a
relative error of noise.

Checks. :func:`check_gradients` and :meth:`GradCheckReport.passed` check their arguments
before any work (with :mod:`lstm_tutorial.checks`; the error names the argument): ``f`` is
callable and returns a real number, ``params`` a non-empty dict of non-empty, writeable
float64 arrays, ``grads`` finite float arrays of the same keys and shapes, ``eps``,
``floor`` and ``tol`` finite numbers (> 0; ``tol`` >= 0), ``max_entries`` an integer >= 1
or None, ``rng`` a Generator or None, ``n_worst`` an integer >= 0. The result dataclasses
``Entry`` and ``GradCheckReport`` are plain containers and are not checked.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from lstm_tutorial import checks


@dataclass
class Entry:
    """One checked entry: which array, which index, and the two gradients."""

    name: str
    index: tuple[int, ...]
    analytic: float
    numeric: float
    rel_error: float


@dataclass
class GradCheckReport:
    """The result of :func:`check_gradients`: the worst entries, per array and overall."""

    max_rel_error: dict[str, float]
    worst: list[Entry] = field(default_factory=list)
    checked: int = 0

    @property
    def worst_rel_error(self) -> float:
        return max(self.max_rel_error.values(), default=0.0)

    def passed(self, tol: float) -> bool:
        """Whether every checked entry's relative error is at most ``tol`` (>= 0)."""
        tol = checks.number("tol", tol, minimum=0.0)
        return self.worst_rel_error <= tol

    def __str__(self) -> str:
        width = max((len(n) for n in self.max_rel_error), default=4)
        lines = [
            f"{self.checked} entries checked; worst relative error per array:"
        ]
        lines += [
            f"  {n:<{width}}  {e:.2e}" for n, e in self.max_rel_error.items()
        ]
        lines.append("worst entries:")
        for e in self.worst:
            lines.append(
                f"  {e.name}{list(e.index)}: analytic {e.analytic:+.6e}"
                f"  numeric {e.numeric:+.6e}  rel {e.rel_error:.1e}"
            )
        return "\n".join(lines)


def check_gradients(
    f: Callable[..., float],
    params: Mapping[str, np.ndarray],
    grads: Mapping[str, np.ndarray],
    *,
    eps: float = 1e-6,
    floor: float = 1e-8,
    max_entries: int | None = None,
    rng: np.random.Generator | None = None,
    n_worst: int = 5,
) -> GradCheckReport:
    """Compare analytic ``grads`` with central differences of ``f`` at ``params``.

    Parameters
    ----------
    f:
        ``f(**params)`` returns a Python or NumPy scalar. It is called with the arrays of
        ``params``, which are modified in place and restored entry by entry.
    params:
        Name -> float64 array. float32 arrays are refused: their rounding error swamps the
        differences (use float64 for checking).
    grads:
        Name -> analytic gradient of ``f`` with respect to that array, the same shape.
    eps:
        The step of the central difference.
    floor:
        Smallest denominator of the relative error.
    max_entries:
        If given, check at most this many randomly chosen entries per array (needs ``rng``
        for repeatability; a default seed is used otherwise).
    n_worst:
        How many of the worst entries the report lists.
    """
    _check_arguments(f, params, grads, eps, floor, max_entries, rng, n_worst)
    entries: list[Entry] = []
    max_rel: dict[str, float] = {}
    rng = rng if rng is not None else np.random.default_rng(0)
    for name, p in params.items():
        g = grads[name]
        flat_indices = np.arange(p.size)
        if max_entries is not None and p.size > max_entries:
            flat_indices = rng.choice(p.size, size=max_entries, replace=False)
        worst_here = 0.0
        for flat in flat_indices:
            idx = np.unravel_index(int(flat), p.shape)
            old = p[idx]
            try:
                p[idx] = old + eps
                plus = _value_of(f, params)
                p[idx] = old - eps
                minus = _value_of(f, params)
            finally:
                p[idx] = old
            numeric = (plus - minus) / (2 * eps)
            analytic = float(g[idx])
            rel = abs(analytic - numeric) / max(
                abs(analytic) + abs(numeric), floor
            )
            if not np.isfinite(rel):
                raise ValueError(
                    f"f returned {plus} and {minus} with {name}{list(idx)} nudged by +-eps "
                    f"(eps = {eps:g}): the numeric gradient is not finite"
                )
            entries.append(
                Entry(name, tuple(int(i) for i in idx), analytic, numeric, rel)
            )
            worst_here = max(worst_here, rel)
        max_rel[name] = worst_here
    entries.sort(key=lambda e: e.rel_error, reverse=True)
    return GradCheckReport(max_rel, entries[:n_worst], checked=len(entries))


def _check_arguments(
    f, params, grads, eps, floor, max_entries, rng, n_worst
) -> None:
    checks.function("f", f)
    checks.mapping("params", params)
    if len(params) == 0:
        raise ValueError(
            "params must hold at least one array, got an empty dict"
        )
    checks.mapping("grads", grads)
    if set(params) != set(grads):
        raise ValueError(
            "grads must have the keys of params: "
            f"missing {sorted(set(params) - set(grads), key=str)}, "
            f"extra {sorted(set(grads) - set(params), key=str)}"
        )
    for name, p in params.items():
        checks.string("a key of params", name)
        where = f"params[{name!r}]"
        if not isinstance(p, np.ndarray) or p.dtype != np.float64:
            checks.array(where, p)  # a list or a tensor: with a hint
            raise checks.ArgumentTypeError(
                f"{where} must be a float64 ndarray for finite differences, got dtype {p.dtype}"
            )
        checks.array(where, p)  # not empty
        if not p.flags.writeable:
            raise ValueError(
                f"{where} must be writeable: its entries are nudged in place"
            )
        g = grads[name]
        where = f"grads[{name!r}]"
        checks.array(where, g, kind="float", nonempty=False)
        if g.shape != p.shape:
            raise ValueError(f"{where} has shape {g.shape}, expected {p.shape}")
        checks.array(where, g, nonempty=False, finite=True)
    checks.positive_number("eps", eps)
    checks.positive_number("floor", floor)
    checks.optional(checks.positive_int, "max_entries", max_entries)
    checks.optional(checks.rng, "rng", rng)
    checks.count("n_worst", n_worst)


def _value_of(f: Callable[..., Any], params: Mapping[str, np.ndarray]) -> float:
    """``f(**params)`` as a float; anything but a real number is an error naming f."""
    return _returned_number("f", f(**params))


def _returned_number(name: str, value: Any) -> float:
    """``value``, returned by the function ``name``, as a float: a real number or a 0-d
    array of one (not a bool, a string, an array of several numbers or a tensor)."""
    real = isinstance(value, numbers.Real) and not isinstance(
        value, bool | np.bool_
    )
    if isinstance(value, np.ndarray):
        real = value.ndim == 0 and value.dtype.kind in "fiu"
    if not real:
        raise checks.ArgumentTypeError(
            f"{name} must return a real number (a float or a 0-d array), got "
            f"{checks.describe(value)}"
        )
    return float(value)
