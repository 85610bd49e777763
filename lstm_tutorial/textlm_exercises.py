"""The checks of Part V's exercises that have the student write code.

Each ``check_*`` runs the student's function on fixed inputs, compares it with the
package's own, prints what differs in words a student can act on, and returns True when
everything agrees. A wrong result is reported, never raised; an exception raised by the
student's function reaches the student unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lstm_tutorial import checks
from lstm_tutorial.baselines import compressor_bits_per_char
from lstm_tutorial.grading import note_stand_in, verdict

#: How far a student's bits per character may be from the package's.
TOLERANCE = 1e-9


def check_compressor_bits(fn: Callable[..., Any]) -> bool:
    """Check ``fn(train_text, valid_text) -> float``, the bits per character lzma needs
    for ``valid_text`` once it has read ``train_text``, on three fixed pairs of texts
    (half a repeat of the training text, new text, and text with non-ASCII characters)
    against :func:`lstm_tutorial.baselines.compressor_bits_per_char`."""
    checks.function("fn", fn)
    note_stand_in(fn)
    train = "the cat sat on the mat; the dog sat on the log. " * 30
    cases = {
        "half repeat, half new": (
            train,
            train[:150] + "zebras quietly graze " * 8,
        ),
        "new text": (train, "a quick brown fox jumps over a lazy dog " * 3),
        "non-ASCII characters": (train, "caf\u00e9 na\u00efve \u00fcber " * 10),
    }
    lines: list[str] = []
    ok = True
    for name, (a, b) in cases.items():
        want = compressor_bits_per_char(a, b, "lzma")
        got = fn(a, b)
        if isinstance(got, bool) or not isinstance(got, int | float):
            lines.append(
                f"{name}: expected a number, got {checks.describe(got)}"
            )
            ok = False
            continue
        if abs(got - want) > TOLERANCE:
            hint = ""
            if abs(got * len(b.encode()) - want * len(b)) < 1e-6:
                hint = " (per byte? divide by characters, len(valid_text))"
            elif (
                abs(got - want * len(b) / 8) < 1e-6
                or abs(got * 8 - want) < 1e-6
            ):
                hint = " (bytes, not bits? a byte is 8 bits)"
            lines.append(
                f"{name}: got {got:.4f} bits/char, expected {want:.4f}{hint}"
            )
            ok = False
        else:
            lines.append(f"{name}: {got:.4f} bits/char, as expected")
    return verdict(ok, lines)


def locked_mask(x: Any, p: float, generator: Any) -> Any:
    """A locked-dropout mask for ``x`` (B, T, F): shape (B, 1, F), entries 0 with
    probability ``p`` and ``1 / (1 - p)`` otherwise, drawn with ``generator``; the
    exercise's stand-in and the reference of :func:`check_locked_mask`."""
    import torch

    checks.tensor("x", x, floating=True, ndim=3)  # (B, T, F)
    p = checks.fraction("p", p, open_high=True)
    checks.instance(
        "generator", generator, torch.Generator, "a torch.Generator"
    )
    shape = (x.shape[0], 1, x.shape[2])
    keep = torch.empty(shape).bernoulli_(1 - p, generator=generator)
    return keep / (1 - p)


def check_locked_mask(fn: Callable[..., Any]) -> bool:
    """Check ``fn(x, p, generator) -> mask``, a locked-dropout mask for ``x`` (B, T, F):
    shape (B, 1, F), entries 0 or 1 / (1 - p), the same for every time step by its
    shape, about a share p of zeros, and ``x * mask`` of ``x``'s shape."""
    import torch

    checks.function("fn", fn)
    note_stand_in(fn)
    B, T, F, p = 4, 9, 50, 0.3
    x = torch.ones(B, T, F)
    lines: list[str] = []
    mask = fn(x, p, torch.Generator().manual_seed(0))
    if not isinstance(mask, torch.Tensor):
        lines.append(f"expected a tensor, got {checks.describe(mask)}")
        return verdict(False, lines)
    ok = True
    if tuple(mask.shape) != (B, 1, F):
        hint = ""
        if tuple(mask.shape) == (B, T, F):
            hint = ": one mask per step is ordinary dropout; draw (B, 1, F)"
        lines.append(f"shape {tuple(mask.shape)}, expected {(B, 1, F)}{hint}")
        return verdict(False, lines)
    kept = 1 / (1 - p)
    values = set(torch.unique(mask).tolist())
    if any(v != 0.0 and abs(v - kept) > 1e-5 for v in values):
        shown = sorted(values)[:4]
        lines.append(
            f"entries {shown}: expected only 0 and 1/(1-p) = {kept:.4f}"
            " (scale the kept units so the mean stays the same)"
        )
        ok = False
    share = float((mask == 0).float().mean())
    if not 0.15 <= share <= 0.45:
        lines.append(
            f"{share:.0%} of the entries are zero: expected about p = {p:.0%}"
            " (p is the probability of dropping, not of keeping)"
        )
        ok = False
    if ok:
        lines.append(
            f"shape {(B, 1, F)}, {share:.0%} zeros, kept units {kept:.4f}"
        )
    return verdict(ok, lines)
