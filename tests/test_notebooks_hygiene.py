"""Notebooks are committed clean, with the python3 kernel, and every one is in the book."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(
    p
    for p in (ROOT / "book").rglob("*.ipynb")
    if ".ipynb_checkpoints" not in p.parts
)


def toc_files() -> set[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = {toc["root"]}
    for part in toc.get("parts", []):
        for chapter in part.get("chapters", []):
            files.add(chapter["file"])
            files.update(s["file"] for s in chapter.get("sections", []))
    return {re.sub(r"\.(md|ipynb)$", "", f) for f in files}


def test_there_are_notebooks():
    assert NOTEBOOKS, "no notebooks found under book/"


@pytest.mark.parametrize(
    "path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT))
)
def test_notebook_is_committed_without_outputs(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    dirty = [
        k
        for k, cell in enumerate(nb["cells"])
        if cell["cell_type"] == "code"
        and (cell.get("outputs") or cell.get("execution_count"))
    ]
    assert not dirty, (
        f"cells {dirty} have outputs or execution counts: clear them before committing"
    )


@pytest.mark.parametrize(
    "path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT))
)
def test_notebook_uses_the_python3_kernel(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    assert nb["metadata"].get("kernelspec", {}).get("name") == "python3"


@pytest.mark.parametrize(
    "path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT))
)
def test_notebook_starts_with_a_title(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    first = nb["cells"][0]
    assert first["cell_type"] == "markdown" and "".join(
        first["source"]
    ).startswith("# ")


def test_every_notebook_and_page_is_in_the_toc():
    in_toc = toc_files()
    pages = [
        p for p in (ROOT / "book").rglob("*") if p.suffix in {".ipynb", ".md"}
    ]
    pages = [
        p
        for p in pages
        if ".ipynb_checkpoints" not in p.parts and "_ext" not in p.parts
    ]
    missing = [
        str(p.relative_to(ROOT))
        for p in pages
        if str(p.relative_to(ROOT).with_suffix("")) not in in_toc
    ]
    assert not missing, f"pages that are not in _toc.yml: {missing}"


def test_every_toc_entry_exists():
    missing = [
        f
        for f in toc_files()
        if not any(
            (ROOT / f"{f}{suffix}").exists() for suffix in (".md", ".ipynb")
        )
    ]
    assert not missing, f"_toc.yml names files that do not exist: {missing}"
