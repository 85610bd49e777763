"""What the exercise checks share: comparing a student's answer with the reference and
saying, in words a student can act on, what is wrong.

The check functions of the chapters' exercises (:mod:`lstm_tutorial.gate_exercises`,
:mod:`lstm_tutorial.backprop_exercises`, :mod:`lstm_tutorial.charlm_exercises`) collect
their lines with a ``say`` function and end with :func:`verdict`.

Checks: these helpers are called by the check functions, not by readers; their arguments
come from the package, and a student's answer is judged, never trusted: a wrong type or
shape is reported as a line, not raised.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from lstm_tutorial import checks

#: Largest difference from the reference still counted as equal (float64 rounding).
TOLERANCE = 1e-9


def as_array(
    name: str, value: Any, shape: tuple[int, ...], say: Callable[[str], Any]
) -> np.ndarray | None:
    """``value`` if it is a float array of ``shape``, else None after saying why."""
    if not isinstance(value, np.ndarray):
        say(
            f"{name}: expected a NumPy array of shape {shape}, "
            f"got {checks.describe(value)}"
        )
        return None
    if value.shape != shape:
        say(f"{name}: expected shape {shape}, got {value.shape}")
        return None
    if not np.issubdtype(value.dtype, np.floating):
        say(f"{name}: expected a float array, got dtype {value.dtype}")
        return None
    return value


def compare(
    name: str,
    got: np.ndarray,
    want: np.ndarray,
    say: Callable[[str], Any],
    tolerance: float = TOLERANCE,
) -> bool:
    """Whether ``got`` equals ``want`` within ``tolerance`` (relative to the largest
    entry of ``want``, or absolute below 1); says so, or where they differ most."""
    diff = np.abs(np.asarray(got, dtype=np.float64) - want)
    worst = np.unravel_index(
        int(np.nanargmax(np.nan_to_num(diff, nan=np.inf))), diff.shape
    )
    largest = float(diff[worst]) if diff.size else 0.0
    scale = max(1.0, float(np.abs(want).max())) if diff.size else 1.0
    if np.isfinite(largest) and largest <= tolerance * scale:
        say(f"{name}: right (largest difference {largest:.1e})")
        return True
    where = f" at index {tuple(int(k) for k in worst)}" if diff.ndim else ""
    say(f"{name}: wrong, largest difference {largest:.3g}{where}")
    say(
        f"  expected {float(np.asarray(want)[worst]):.6g} there, "
        f"got {float(np.asarray(got)[worst]):.6g}"
    )
    return False


def is_tuple(result: Any, what: str, say: Callable[[str], Any]) -> bool:
    """Whether ``result`` is a tuple of as many items as ``what`` names
    (``"(loss, grad)"``); says what was expected if not."""
    if isinstance(result, tuple) and len(result) == len(what.split(",")):
        return True
    say(f"expected a tuple {what}, got {checks.describe(result)}")
    return False


def verdict(ok: bool, lines: list[str]) -> bool:
    """Print the collected ``lines`` and the verdict; return ``ok``."""
    lines.append("All correct." if ok else "Not yet: see the lines above.")
    print("\n".join(lines))
    return ok


def note_stand_in(fn: Any) -> bool:
    """Say so when ``fn`` is one of the package's own functions (the stand-in a
    notebook ships with, so that its check cell runs) rather than the student's;
    returns whether it was."""
    module = getattr(fn, "__module__", None) or ""
    if not module.startswith("lstm_tutorial"):
        return False
    name = getattr(fn, "__qualname__", repr(fn))
    print(
        "note: this checks the stand-in, the package's own\n"
        f"      {module}.{name};\n"
        "      write your own function, pass it here and run the check again"
    )
    return True
