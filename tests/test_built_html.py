"""Static checks of the built HTML: nothing in it points at the network."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"

pytestmark = pytest.mark.browser  # needs the built book, like the browser test

# Links a reader clicks (DOIs, arXiv) are fine; resources a page loads by itself are not.
LOADED = re.compile(
    r"<(script|link|img|iframe|source)\b[^>]*\b(src|href)=\"(https?:)?//", re.I
)
CDN = re.compile(
    r"(cdn\.|unpkg\.com|jsdelivr|googleapis|cdnjs|require\.js)", re.I
)


def html_files() -> list[Path]:
    if not (HTML / "index.html").exists():
        pytest.fail("the book is not built: run `make book` first")
    return sorted(HTML.rglob("*.html"))


def test_no_page_loads_anything_from_the_network():
    offenders = []
    for path in html_files():
        text = path.read_text(encoding="utf-8")
        for match in LOADED.finditer(text):
            offenders.append(
                f"{path.relative_to(HTML)}: {match.group(0)[:100]}"
            )
        for match in CDN.finditer(text):
            offenders.append(
                f"{path.relative_to(HTML)}: mentions {match.group(0)}"
            )
    assert not offenders, "\n".join(offenders[:20])


def test_mathjax_is_served_from_the_book():
    html_files()
    assert (HTML / "_static" / "mathjax" / "tex-chtml.js").exists()
    fonts = list(
        (HTML / "_static" / "mathjax" / "output" / "chtml" / "fonts").rglob(
            "*.woff"
        )
    )
    assert fonts, "MathJax's fonts are missing from the build"


def test_every_notebook_ran_successfully():
    """Read the execution statistics page: every notebook is listed and succeeded.

    How long they took is reported, not asserted (``make timings``): a busy machine must
    not fail the tests."""
    html_files()
    page = (HTML / "book" / "back" / "execution_stats.html").read_text(
        encoding="utf-8"
    )
    rows = re.findall(
        r'<span class="doc">([^<]+)</span>.*?<td><p>[^<]*</p></td>\s*<td><p>(\w+)</p></td>'
        r"\s*<td><p>([\d.]+)</p></td>\s*<td><p>([^<]*)</p></td>",
        page,
        flags=re.S,
    )
    notebooks = sorted((ROOT / "book").rglob("*.ipynb"))
    assert len(rows) == len(notebooks), (
        f"stats list {len(rows)} notebooks, book has {len(notebooks)}"
    )
    failed = [doc for doc, _, _, status in rows if status.strip() != "✅"]
    assert not failed, f"notebooks that failed to execute: {failed}"
