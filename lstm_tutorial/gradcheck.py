"""Check an analytic gradient against central finite differences.

Works on any scalar function of NumPy arrays: ``f(**params) -> float``. Each entry of each
array is nudged by ``+eps`` and ``-eps`` and the slope ``(f(+) - f(-)) / (2 eps)`` is compared
with the analytic gradient. The error of entry ``k`` is measured relative to the size of both
numbers, ``|a - n| / max(|a| + |n|, floor)``, so that tiny gradients are not judged by a
relative error of noise.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np


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
        return self.worst_rel_error <= tol

    def __str__(self) -> str:
        width = max((len(n) for n in self.max_rel_error), default=4)
        lines = [f"{self.checked} entries checked; worst relative error per array:"]
        lines += [f"  {n:<{width}}  {e:.2e}" for n, e in self.max_rel_error.items()]
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
    if set(params) != set(grads):
        raise ValueError(
            f"grads must have the keys of params: missing {sorted(set(params) - set(grads))}, "
            f"extra {sorted(set(grads) - set(params))}"
        )
    entries: list[Entry] = []
    max_rel: dict[str, float] = {}
    rng = rng if rng is not None else np.random.default_rng(0)
    for name, p in params.items():
        g = np.asarray(grads[name])
        if not isinstance(p, np.ndarray) or p.dtype != np.float64:
            raise ValueError(f"params[{name!r}] must be a float64 ndarray for finite differences")
        if g.shape != p.shape:
            raise ValueError(f"grads[{name!r}] has shape {g.shape}, expected {p.shape}")
        flat_indices = np.arange(p.size)
        if max_entries is not None and p.size > max_entries:
            flat_indices = rng.choice(p.size, size=max_entries, replace=False)
        worst_here = 0.0
        for flat in flat_indices:
            idx = np.unravel_index(int(flat), p.shape)
            old = p[idx]
            p[idx] = old + eps
            plus = float(f(**params))
            p[idx] = old - eps
            minus = float(f(**params))
            p[idx] = old
            numeric = (plus - minus) / (2 * eps)
            analytic = float(g[idx])
            rel = abs(analytic - numeric) / max(abs(analytic) + abs(numeric), floor)
            if not np.isfinite(rel):
                raise ValueError(f"non-finite gradient at {name}{list(idx)}")
            entries.append(Entry(name, tuple(int(i) for i in idx), analytic, numeric, rel))
            worst_here = max(worst_here, rel)
        max_rel[name] = worst_here
    entries.sort(key=lambda e: e.rel_error, reverse=True)
    return GradCheckReport(max_rel, entries[:n_worst], checked=len(entries))
