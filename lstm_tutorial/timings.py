"""How long each chapter takes to run cold, against the book's budget: ``make timings``.

The book promises that every notebook runs top to bottom from a fresh kernel in under
:data:`BUDGET_SECONDS` on a two-core laptop. That is a budget to measure and report, not a
test to fail: a busy machine would fail it without anything being wrong. So the tests
check only that every notebook runs, and this command measures the time::

    python -m lstm_tutorial.timings            # every notebook under book/
    python -m lstm_tutorial.timings book/part4_memory --budget 90 --json _build/timings.json

Each notebook runs *cold*, as on a fresh clone: in a fresh kernel, in a temporary copy of
its folder (so no model or result cached by an earlier run is found) and with
``LSTM_TUTORIAL_CHECKPOINTS`` pointing at an empty folder. The notebooks run one after the
other, so each has the machine to itself. The report lists every notebook's seconds and
flags those over the budget; it exits with status 1 only if a notebook failed to run, or,
with ``--strict``, if one was over the budget.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from lstm_tutorial import checks
from lstm_tutorial.store import write_json

#: The book's promise for each notebook, in seconds, on two cores from a fresh kernel.
BUDGET_SECONDS = 90.0
#: Folders under book/ that hold no chapters, or hold what the notebooks write.
SKIPPED_PARTS = ("_build", "checkpoints", ".ipynb_checkpoints")


@dataclass
class Timing:
    """One notebook's cold run: its path, the seconds it took and how it ended."""

    notebook: str
    seconds: float
    status: str  # "ok", "over budget" or "failed: <error>"


def find_notebooks(paths: Sequence[str | Path]) -> list[Path]:
    """The notebooks in ``paths`` (files, or folders searched recursively), sorted, without
    the folders in :data:`SKIPPED_PARTS`."""
    checks.sequence("paths", paths)
    found: list[Path] = []
    for item in paths:
        path = checks.path("paths item", item)
        if path.is_file() and path.suffix == ".ipynb":
            found.append(path)
        elif path.is_dir():
            found += [
                nb
                for nb in path.rglob("*.ipynb")
                if not any(part in SKIPPED_PARTS for part in nb.parts)
            ]
        else:
            raise ValueError(
                f"paths item {str(item)!r} is neither a notebook nor a folder"
            )
    if not found:
        raise ValueError(f"no notebooks found in {[str(p) for p in paths]}")
    return sorted(set(found))


def run_cold(notebook: Path, timeout: float = 600.0) -> float:
    """Execute ``notebook`` from a fresh kernel in a temporary copy of its folder, with an
    empty checkpoint folder; return the wall-clock seconds. Raises what the notebook raised."""
    import nbformat
    from nbclient import NotebookClient

    checks.positive_number("timeout", timeout)
    notebook = checks.path("notebook", notebook)
    if notebook.suffix != ".ipynb" or not notebook.is_file():
        raise ValueError(
            f"notebook must be an existing .ipynb file, got {str(notebook)!r}"
        )

    with tempfile.TemporaryDirectory(prefix="lstm-timings-") as tmp:
        work = Path(tmp) / notebook.parent.name
        shutil.copytree(
            notebook.parent,
            work,
            ignore=shutil.ignore_patterns(*SKIPPED_PARTS, "*.ipynb"),
        )
        nb = nbformat.read(notebook, as_version=4)
        before = os.environ.get("LSTM_TUTORIAL_CHECKPOINTS")
        os.environ["LSTM_TUTORIAL_CHECKPOINTS"] = str(Path(tmp) / "checkpoints")
        try:
            client = NotebookClient(
                nb,
                timeout=timeout,
                kernel_name="python3",
                resources={"metadata": {"path": work}},
            )
            start = time.perf_counter()
            # The kernel's own log lines (not the cells' output) would drown the report.
            client.execute(stderr=subprocess.DEVNULL)
            return time.perf_counter() - start
        finally:
            if before is None:
                os.environ.pop("LSTM_TUTORIAL_CHECKPOINTS", None)
            else:
                os.environ["LSTM_TUTORIAL_CHECKPOINTS"] = before


def measure(
    notebooks: Sequence[Path],
    budget: float = BUDGET_SECONDS,
    *,
    run: Callable[[Path], float] = run_cold,
    log: Callable[[str], None] | None = print,
) -> list[Timing]:
    """Run every notebook with ``run`` (default :func:`run_cold`) and classify its time."""
    checks.sequence("notebooks", notebooks)
    budget = checks.positive_number("budget", budget)
    checks.function("run", run)
    checks.optional(checks.function, "log", log)
    timings = []
    for k, notebook in enumerate(notebooks, 1):
        start = time.perf_counter()
        try:
            seconds = checks.number(
                f"run({notebook})", run(notebook), minimum=0.0
            )
            status = "ok" if seconds < budget else "over budget"
        except Exception as err:  # report it and go on with the others
            seconds = time.perf_counter() - start
            first = (str(err).strip().splitlines() or [type(err).__name__])[-1]
            status = f"failed: {first[:100]}"
        timings.append(Timing(str(notebook), seconds, status))
        if log is not None:
            log(
                f"[{k}/{len(notebooks)}] {notebook}: {seconds:.1f} s ({status})"
            )
    return timings


def format_report(
    timings: Sequence[Timing], budget: float = BUDGET_SECONDS
) -> str:
    """A plain table, slowest first, with a line saying how many are over the budget."""
    checks.sequence("timings", timings)
    checks.positive_number("budget", budget)
    width = max(len(t.notebook) for t in timings)
    lines = [f"{'notebook':<{width}}  seconds  (budget {budget:g} s)"]
    for t in sorted(timings, key=lambda t: -t.seconds):
        flag = "" if t.status == "ok" else f"  <-- {t.status}"
        lines.append(f"{t.notebook:<{width}}  {t.seconds:7.1f}{flag}")
    over = [t for t in timings if t.status == "over budget"]
    failed = [t for t in timings if t.status.startswith("failed")]
    total = sum(t.seconds for t in timings)
    lines.append(
        f"{len(timings)} notebooks, {total:.0f} s in all; {len(over)} over the budget of "
        f"{budget:g} s, {len(failed)} failed"
    )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m lstm_tutorial.timings",
        description="Run every notebook cold and report its time against the budget.",
    )
    parser.add_argument(
        "paths", nargs="*", default=["book"], help="notebooks or folders"
    )
    parser.add_argument(
        "--budget", type=float, default=BUDGET_SECONDS, help="seconds each"
    )
    parser.add_argument(
        "--json", type=Path, help="also write the timings to this JSON file"
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        help="exit with status 1 if a notebook is over budget",
    )
    args = parser.parse_args(argv)
    if not args.budget > 0 or args.budget == float("inf"):
        parser.error(
            f"--budget must be a positive number of seconds, got {args.budget}"
        )
    try:
        notebooks = find_notebooks(args.paths)
    except ValueError as err:
        parser.error(str(err))
    if args.json is not None and (
        args.json.is_dir() or not str(args.json).strip()
    ):
        parser.error(f"--json must name a file, got {str(args.json)!r}")
    if args.json is not None:  # before minutes of notebooks, not after
        try:
            args.json.parent.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            parser.error(
                f"--json {args.json}: cannot create its folder ({err.strerror})"
            )
    timings = measure(notebooks, args.budget)
    print()
    print(format_report(timings, args.budget))
    if args.json is not None:
        write_json(
            args.json,
            {"budget": args.budget, "timings": [asdict(t) for t in timings]},
        )
    failed = any(t.status.startswith("failed") for t in timings)
    over = any(t.status == "over budget" for t in timings)
    return 1 if failed or (args.strict and over) else 0


if __name__ == "__main__":
    sys.exit(main())
