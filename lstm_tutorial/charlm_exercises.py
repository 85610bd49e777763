"""Checks for the exercises of the NumPy language model chapters, in which the student
writes the cross-entropy with its gradient, or one Adam update.

Each ``check_...`` function calls the student's function on fixed random inputs, compares
what it returns with the package's own computation (and with finite differences or
``torch.optim.Adam``), prints what agrees and what differs in words a student can act on
(which output, expected shape against got, the largest difference and where), and returns
True if everything agrees.

- :func:`check_cross_entropy`: ``fn(logits, targets) -> (loss, grad)`` against
  ``charlm.cross_entropy`` and central finite differences (chapter "A NumPy language
  model").
- :func:`check_adam_step`: ``fn(p, g, m, v, t, lr, beta1, beta2, eps) -> (p, m, v)``
  against ``optim.Adam`` and ``torch.optim.Adam`` over several steps (chapter "Training
  the NumPy language model").
- :func:`check_rnn_hidden_size`: ``fn(D, H) -> H_rnn``, the protocol's "same size" rule,
  against ``variants.matching_hidden_size`` (chapter "A plain RNN on the same text").

Checks. Each function checks that its argument is callable before any work (a TypeError
naming ``fn``). What the student's function returns is not an argument: a wrong type or
shape is reported in the printout (and the result is False), never raised; an exception
raised by the student's function reaches the student unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from lstm_tutorial import checks
from lstm_tutorial.charlm import cross_entropy
from lstm_tutorial.grading import (
    as_array,
    compare,
    is_tuple,
    note_stand_in,
    verdict,
)
from lstm_tutorial.optim import Adam

#: Largest difference from a central finite difference still counted as equal.
FD_TOLERANCE = 1e-6


def check_cross_entropy(fn: Callable[..., Any]) -> bool:
    """Check ``fn(logits, targets) -> (loss, grad)`` on a batch of T = 4 steps, B = 3
    sequences, V = 6 characters (float64 logits, int64 targets): the loss (a number, the
    mean of -log p(target) in nats) against ``charlm.cross_entropy``, and the gradient
    (T, B, V) against it and against central finite differences of ``fn``'s own loss.
    Prints the comparison; returns True if all agree."""
    checks.function("fn", fn)
    note_stand_in(fn)
    T, B, V = 4, 3, 6
    rng = np.random.default_rng(5)
    logits = rng.normal(scale=2.0, size=(T, B, V))
    targets = rng.integers(0, V, (T, B))
    want_loss, want_grad = cross_entropy(logits, targets)
    lines: list[str] = []
    say = lines.append
    result = fn(logits.copy(), targets.copy())
    if not is_tuple(result, "(loss, grad)", say):
        return verdict(False, lines)
    loss, grad = result
    ok = True
    if isinstance(loss, bool) or not isinstance(
        loss, float | int | np.floating
    ):
        say(f"loss: expected a number, got {checks.describe(loss)}")
        ok = False
    else:
        ok = compare("loss", np.array(float(loss)), np.array(want_loss), say)
    grad = as_array("grad", grad, (T, B, V), say)
    if grad is None:
        return verdict(False, lines)
    ok = compare("grad against the package", grad, want_grad, say) and ok
    if ok:
        worst = 0.0
        eps = 1e-5
        for index in [
            (0, 0, 0),
            (1, 2, 3),
            (3, 1, 5),
            (2, 0, int(targets[2, 0])),
        ]:
            up, down = logits.copy(), logits.copy()
            up[index] += eps
            down[index] -= eps
            slope = (
                float(fn(up, targets)[0]) - float(fn(down, targets)[0])
            ) / (2 * eps)
            worst = max(worst, abs(slope - float(grad[index])))
        if worst <= FD_TOLERANCE:
            say(
                f"grad against finite differences: right (largest difference {worst:.1e})"
            )
        else:
            say(
                f"grad against finite differences: wrong (largest difference {worst:.3g})"
            )
            ok = False
    return verdict(ok, lines)


def check_adam_step(fn: Callable[..., Any]) -> bool:
    """Check ``fn(p, g, m, v, t, lr, beta1, beta2, eps) -> (p, m, v)``, one Adam update of
    one parameter array ``p`` with gradient ``g``, averages ``m`` and ``v`` (the state
    before the step) and ``t``, the number of this step (1 for the first). Five steps on a
    (3, 4) float64 parameter with random gradients are compared, step by step, with
    ``optim.Adam`` (lr 0.01, betas (0.9, 0.999), eps 1e-8) and, at the end, with
    ``torch.optim.Adam``. Prints the comparison; returns True if all agree."""
    checks.function("fn", fn)
    note_stand_in(fn)
    import torch

    rng = np.random.default_rng(9)
    start = rng.normal(size=(3, 4))
    grads = rng.normal(size=(5, 3, 4)) * np.array([1.0, 1e-3, 10.0, 0.1])
    lr, beta1, beta2, eps = 0.01, 0.9, 0.999, 1e-8
    reference = {"p": start.copy()}
    adam = Adam(reference, lr=lr, betas=(beta1, beta2), eps=eps)
    p, m, v = start.copy(), np.zeros_like(start), np.zeros_like(start)
    lines: list[str] = []
    say = lines.append
    ok = True
    for t, g in enumerate(grads, start=1):
        result = fn(
            p.copy(), g.copy(), m.copy(), v.copy(), t, lr, beta1, beta2, eps
        )
        if not is_tuple(result, "(p, m, v)", say):
            return verdict(False, lines)
        parts = [
            as_array(name, a, start.shape, say)
            for name, a in zip("pmv", result, strict=True)
        ]
        if any(a is None for a in parts):
            return verdict(False, lines)
        adam.step({"p": g.copy()})
        step_ok = all(
            compare(f"step {t}, {name}", got, want, lambda line: None)
            for name, got, want in zip(
                "pmv",
                parts,
                (reference["p"], adam.m["p"], adam.v["p"]),
                strict=True,
            )
        )
        if not step_ok:
            say(f"step {t} (t = {t}) differs from optim.Adam:")
            for name, got, want in zip(
                "pmv",
                parts,
                (reference["p"], adam.m["p"], adam.v["p"]),
                strict=True,
            ):
                compare(f"  {name}", got, want, say)
            return verdict(False, lines)
        p, m, v = parts
    say(f"p, m and v agree with optim.Adam at all {len(grads)} steps")
    tensor = torch.tensor(start, requires_grad=True)
    torch_adam = torch.optim.Adam(
        [tensor], lr=lr, betas=(beta1, beta2), eps=eps
    )
    for g in grads:
        tensor.grad = torch.tensor(g)
        torch_adam.step()
    ok = (
        compare("p against torch.optim.Adam", p, tensor.detach().numpy(), say)
        and ok
    )
    return verdict(ok, lines)


#: The (input size D, LSTM hidden size H) pairs :func:`check_rnn_hidden_size` tries.
SIZE_CASES = ((32, 128), (2, 32), (10, 64), (100, 50), (1, 1), (64, 256))


def check_rnn_hidden_size(fn: Callable[..., Any]) -> bool:
    """Check ``fn(D, H) -> H_rnn``: the hidden size of a plain RNN layer whose number of
    weights (biases included, two vectors as in torch) is nearest to that of an LSTM layer
    of input size D and hidden size H, the smaller one on a tie. Compared, for each pair of
    :data:`SIZE_CASES`, with :func:`lstm_tutorial.variants.matching_hidden_size` and the
    parameter counts of the torch layers. Prints the comparison; returns True if all
    agree."""
    checks.function("fn", fn)
    note_stand_in(fn)
    from lstm_tutorial.variants import (
        count_parameters,
        make_recurrent,
        matching_hidden_size,
    )

    lines: list[str] = []
    say = lines.append
    ok = True
    for D, H in SIZE_CASES:
        target = count_parameters(make_recurrent("lstm", D, H))
        want = matching_hidden_size("rnn", D, target)
        got = fn(D, H)
        if isinstance(got, bool) or not isinstance(got, int | np.integer):
            say(
                f"D = {D}, H = {H}: expected an int, got {checks.describe(got)}"
            )
            ok = False
            continue
        got = int(got)
        if got == want:
            say(f"D = {D:>3}, H = {H:>3}: right, H_rnn = {got}")
            continue
        ok = False
        if got < 1:
            say(
                f"D = {D:>3}, H = {H:>3}: expected {want}, got {got} (at least 1)"
            )
            continue
        weights = count_parameters(make_recurrent("rnn", D, got))
        best = count_parameters(make_recurrent("rnn", D, want))
        say(
            f"D = {D:>3}, H = {H:>3}: expected {want}, got {got}: the LSTM has "
            f"{target:,} weights, RNN({got}) {weights:,}, RNN({want}) {best:,}"
        )
    return verdict(ok, lines)
