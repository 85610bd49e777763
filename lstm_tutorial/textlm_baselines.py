"""The baselines of the real-text part, recorded: too slow to choose on a page.

The n-gram model's order is chosen on the tail of the training text from the orders
1 to 40 (:data:`ORDERS`): at character level the dev score keeps falling past order 10,
the top of the grid a page could afford, and choosing among 40 orders takes about two
minutes, too long for a page. ``make
experiments`` runs ``python -m lstm_tutorial.textlm_baselines``, which measures every
baseline of :mod:`lstm_tutorial.baselines` on the held-out test text of
:func:`lstm_tutorial.textlm_experiments.heldout` (the same split as the recorded
networks), at character level (min_count 1) and at word level (min_count 2, as the
regularisation runs), and writes them to ``records/textlm_baselines.json``, a records
file that :func:`lstm_tutorial.experiments.load_records` reads and checks like the
others. :func:`measure_test` measures a level's test numbers again at its recorded
order, for the chapter and for a test.
"""

from __future__ import annotations

import argparse
import datetime
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from lstm_tutorial import baselines, checks
from lstm_tutorial.experiments import (
    RECORDS_DIR,
    RECORDS_FORMAT,
    _versions,
    code_hash,
)
from lstm_tutorial.store import digest, write_json
from lstm_tutorial.textlm_experiments import heldout

#: The name of the records file (and of its group).
NAME = "textlm_baselines"
#: The n-gram orders tried, at both levels.
ORDERS = tuple(range(1, 41))
#: Each level and the min_count of its vocabulary (that of the recorded networks).
LEVELS = {"char": 1, "word": 2}
#: The modules whose code computes the baselines.
MODULES = ("baselines", "text", "chardata", "textlm_experiments", NAME)


def _texts(level: str) -> tuple[list[str], list[str], object]:
    data = heldout(level, LEVELS[level])
    vocab = data.vocab
    return vocab.decode(data.train), vocab.decode(data.test), vocab


def measure_level(level: str, orders: Sequence[int] = ORDERS) -> dict:
    """Every baseline at ``level`` ('char' or 'word') on the test text: ``uniform``,
    ``unigram``, ``dev`` (``[order, dev bits]`` for each of ``orders``), ``order``
    (the best), ``edge`` (whether it is the smallest or largest tried),
    ``kneser_ney`` (test bits at that order), ``seconds`` per part, and at
    character level ``lzma``, ``bz2`` and ``zlib`` (bits per character). Every
    number is bits per token of the test text."""
    checks.choice("level", level, tuple(LEVELS))
    orders = _orders(orders)
    train, test, vocab = _texts(level)
    seconds = {}
    start = time.perf_counter()
    order, dev = baselines.best_order(train, vocab, orders=orders)
    seconds["choose_order"] = time.perf_counter() - start
    metrics = {
        "uniform": baselines.uniform_bits(vocab.size),
        "unigram": baselines.unigram_bits(train, test, vocab),
        "dev": [[n, bits] for n, bits in sorted(dev.items())],
        "order": order,
        "edge": order in (min(orders), max(orders)),
        "test_tokens": len(test),
    }
    metrics.update(measure_test(level, order))
    metrics["seconds"] = {**seconds, **metrics.pop("seconds")}
    return metrics


def measure_test(level: str, order: int) -> dict:
    """The test numbers of ``level`` with the n-gram order ``order``:
    ``kneser_ney``, at character level the three compressors, and their
    ``seconds``."""
    checks.choice("level", level, tuple(LEVELS))
    checks.positive_int("order", order)
    train, test, vocab = _texts(level)
    start = time.perf_counter()
    kn = baselines.NGramModel(train, order, vocab).bits(test, history=train)
    out = {"kneser_ney": kn}
    seconds = {"kneser_ney": time.perf_counter() - start}
    if level == "char":
        start = time.perf_counter()
        out.update(baselines.compressor_table("".join(train), "".join(test)))
        seconds["compressors"] = time.perf_counter() - start
    out["seconds"] = seconds
    return out


def _orders(orders: Sequence[int]) -> list[int]:
    checks.sequence("orders", orders)
    out = [checks.positive_int(f"orders[{k}]", n) for k, n in enumerate(orders)]
    if len(set(out)) != len(out):
        raise ValueError(f"orders must list each order once, got {out}")
    return out


def record_baselines(
    directory: str | Path = RECORDS_DIR,
    *,
    orders: Sequence[int] = ORDERS,
    log: Callable[[str], None] | None = print,
) -> dict:
    """Measure both levels and write ``directory/textlm_baselines.json`` (by
    default the package's records); return its content."""
    directory = checks.path("directory", directory)
    if directory.exists() and not directory.is_dir():
        raise ValueError(
            f"directory must be a folder, but {directory} is a file"
        )
    orders = _orders(orders)
    checks.optional(checks.function, "log", log)
    started = time.perf_counter()
    runs = []
    for level in LEVELS:
        begin = time.perf_counter()
        metrics = measure_level(level, orders)
        runs.append(
            {
                "config": {
                    "task": NAME,
                    "model": level,
                    "level": level,
                    "min_count": LEVELS[level],
                    "orders": orders,
                    "seed": None,
                    "lr": None,
                },
                "metrics": metrics,
                "seconds": time.perf_counter() - begin,
            }
        )
        if log is not None:
            log(
                f"{level}: order {metrics['order']}, Kneser-Ney "
                f"{metrics['kneser_ney']:.3f} bits per token on the test text"
            )
    content = {
        "group": NAME,
        "command": "make experiments",
        "code_hash": code_hash(MODULES),
        "modules": list(MODULES),
        "versions": _versions(),
        "jobs": 1,
        "finished": datetime.datetime.now(datetime.UTC).isoformat(
            timespec="seconds"
        ),
        "wall_seconds": time.perf_counter() - started,
        "run_seconds": sum(r["seconds"] for r in runs),
        "tuning": [],
        "runs": runs,
    }
    record = {"format": RECORDS_FORMAT, **content, "digest": digest(content)}
    directory.mkdir(parents=True, exist_ok=True)
    write_json(directory / f"{NAME}.json", record)
    return record


def main(argv: list[str] | None = None) -> int:
    checks.argv("argv", argv)
    parser = argparse.ArgumentParser(
        prog="python -m lstm_tutorial.textlm_baselines",
        description="Measure Part V's baselines and record them.",
    )
    parser.parse_args(argv)
    record_baselines()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
