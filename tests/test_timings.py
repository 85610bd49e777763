"""The timings report: notebooks run cold and are measured against the budget, never asserted."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from lstm_tutorial import timings


def write_notebook(path: Path, *sources: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    nb = nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell(s) for s in sources]
    )
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, path)
    return path


def test_find_notebooks_skips_what_the_notebooks_write(tmp_path):
    a = write_notebook(tmp_path / "part" / "a.ipynb", "1")
    write_notebook(tmp_path / "part" / "checkpoints" / "x.ipynb", "1")
    write_notebook(
        tmp_path / "part" / ".ipynb_checkpoints" / "a-checkpoint.ipynb", "1"
    )
    assert timings.find_notebooks([tmp_path]) == [a]


def test_find_notebooks_refuses_paths_that_hold_none(tmp_path):
    with pytest.raises(ValueError, match="no notebooks found"):
        timings.find_notebooks([tmp_path])
    with pytest.raises(ValueError, match="neither a notebook nor a folder"):
        timings.find_notebooks([tmp_path / "missing.ipynb"])


def test_measure_flags_slow_and_failed_notebooks_without_raising():
    seconds = {"fast.ipynb": 10.0, "slow.ipynb": 95.0}

    def fake_run(notebook):
        if notebook.name == "broken.ipynb":
            raise RuntimeError("NameError: name 'x' is not defined")
        return seconds[notebook.name]

    names = [Path(n) for n in ("fast.ipynb", "slow.ipynb", "broken.ipynb")]
    result = timings.measure(names, 90, run=fake_run, log=None)
    assert [t.status for t in result] == [
        "ok",
        "over budget",
        "failed: NameError: name 'x' is not defined",
    ]
    report = timings.format_report(result, 90)
    assert (
        report.splitlines()[1].startswith("slow.ipynb")
        and "<-- over budget" in report
    )
    assert report.endswith("1 over the budget of 90 s, 1 failed")


@pytest.mark.parametrize("budget", [0, -5, True, float("inf"), "90"])
def test_measure_refuses_a_budget_that_is_not_a_positive_number(budget):
    with pytest.raises(ValueError, match="budget"):
        timings.measure([Path("a.ipynb")], budget, run=lambda nb: 1.0, log=None)


def test_a_notebook_runs_cold_in_a_copy_of_its_folder(tmp_path, capsys):
    """It finds the files beside it, writes into the copy only, and sees no checkpoint
    folder of the real one."""
    folder = tmp_path / "part"
    (folder / "data.txt").parent.mkdir(parents=True)
    (folder / "data.txt").write_text("hello")
    (folder / "checkpoints").mkdir()
    (folder / "checkpoints" / "model.npz").write_text("cached")
    nb = write_notebook(
        folder / "a.ipynb",
        "import os, pathlib\nassert pathlib.Path('data.txt').read_text() == 'hello'",
        "assert not pathlib.Path('checkpoints/model.npz').exists()",
        "assert 'lstm-timings-' in os.environ['LSTM_TUTORIAL_CHECKPOINTS']",
        "pathlib.Path('out.txt').write_text('x')",
    )
    out = tmp_path / "timings.json"
    assert timings.main([str(nb), "--json", str(out)]) == 0
    assert not (folder / "out.txt").exists()
    (record,) = json.loads(out.read_text())["timings"]
    assert record["status"] == "ok" and record["seconds"] > 0
    assert "1 notebooks" in capsys.readouterr().out


def test_a_failing_notebook_makes_the_report_exit_with_status_1(tmp_path):
    nb = write_notebook(
        tmp_path / "bad.ipynb", "raise ValueError('broken on purpose')"
    )
    assert timings.main([str(nb)]) == 1


def test_strict_mode_fails_on_a_notebook_over_the_budget(tmp_path):
    nb = write_notebook(
        tmp_path / "slowish.ipynb", "import time; time.sleep(0.2)"
    )
    assert (
        timings.main([str(nb), "--budget", "0.01"]) == 0
    )  # a report, not a test
    assert timings.main([str(nb), "--budget", "0.01", "--strict"]) == 1


def test_the_command_refuses_a_bad_budget(tmp_path):
    with pytest.raises(SystemExit) as info:
        timings.main(["--budget", "-1"])
    assert info.value.code == 2
