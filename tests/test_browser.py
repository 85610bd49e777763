"""The built book, opened in a real headless browser with the network cut off.

Needs `make book` first (`make test` runs it). Every page of the table of contents is loaded
from file:// with every other request blocked; a page fails if an equation is not typeset,
an image did not load, the console shows an error, or anything tried to reach the network,
or its layout breaks a rule of tests/page_layout.py (a code block that scrolls sideways, a page
longer than 15 screens, a figure shrunk below 0.6 of its size, a page wider than a phone's
screen). A screenshot of each page is saved under _build/screenshots for a human to look at.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from page_layout import NARROW, WIDE, narrow_problems, wide_problems

ROOT = Path(__file__).resolve().parents[1]
HTML = ROOT / "_build" / "html"
SHOTS = ROOT / "_build" / "screenshots"
CHROMIUM_CANDIDATES = ("chromium", "chromium-browser", "google-chrome")

pytestmark = pytest.mark.browser


def toc_pages() -> list[str]:
    """The pages of _toc.yml, as paths relative to the HTML root without suffix."""
    import yaml

    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    pages = [toc["root"]]
    for part in toc.get("parts", []):
        for chapter in part.get("chapters", []):
            pages.append(chapter["file"])
            pages.extend(
                section["file"] for section in chapter.get("sections", [])
            )
    return [re.sub(r"\.(md|ipynb)$", "", p) for p in pages]


def find_chromium() -> str | None:
    explicit = os.environ.get("CHROMIUM")
    if explicit:
        return explicit
    for name in CHROMIUM_CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    return None


@pytest.fixture(scope="module")
def browser():
    if not (HTML / "index.html").exists():
        pytest.fail("the book is not built: run `make book` first")
    executable = find_chromium()
    playwright_api = pytest.importorskip("playwright.sync_api")
    if executable is None:
        message = "no Chromium found (apt-get install chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=executable,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


class PageVisit:
    """Open one page offline and record everything that went wrong."""

    def __init__(self, browser, path: Path, viewport: dict = WIDE):
        self.problems: list[str] = []
        self.context = browser.new_context(viewport=viewport)
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("console", self._console)
        self.page.on(
            "pageerror", lambda err: self.problems.append(f"page error: {err}")
        )
        self.page.on(
            "requestfailed",
            lambda req: (
                req.url.startswith("file:")
                and self.problems.append(f"failed to load {req.url}")
            ),
        )
        self.page.goto(path.as_uri(), wait_until="load")

    def _route(self, route):
        url = route.request.url
        if url.startswith(("file:", "data:", "blob:")):
            route.continue_()
        else:
            self.problems.append(f"network request attempted: {url}")
            route.abort()

    def _console(self, msg):
        if msg.type == "error":
            self.problems.append(f"console error: {msg.text}")

    def close(self):
        self.context.close()


def wait_for_math(page) -> dict:
    """Wait until MathJax has typeset the page; report what it did."""
    has_math = page.evaluate("document.querySelectorAll('.math').length > 0")
    if has_math:
        page.wait_for_function(
            "() => window.MathJax && MathJax.startup", timeout=20_000
        )
        page.evaluate("MathJax.startup.promise")
    return page.evaluate(
        """() => {
          const math = [...document.querySelectorAll('.math')];
          return {
            total: math.length,
            untypeset: math.filter(m => !m.querySelector('mjx-container')).map(
                m => m.textContent.slice(0, 60)),
            errors: document.querySelectorAll('mjx-merror').length,
          };
        }"""
    )


def test_toc_pages_exist_in_the_build():
    missing = [p for p in toc_pages() if not (HTML / f"{p}.html").exists()]
    assert not missing, f"toc entries with no built page: {missing}"


@pytest.mark.parametrize("page_path", toc_pages())
def test_page_renders_offline(browser, page_path):
    visit = PageVisit(browser, HTML / f"{page_path}.html")
    page = visit.page
    try:
        math = wait_for_math(page)
        page.evaluate(
            """async () => {
              await Promise.all([...document.images].map(img => img.decode().catch(() => null)));
            }"""
        )
        broken = page.evaluate(
            """() => [...document.images]
                 .filter(img => !(img.complete && img.naturalWidth > 0))
                 .map(img => img.getAttribute('src'))"""
        )
        wide_math = page.evaluate(
            """() => [...document.querySelectorAll('mjx-container[display="true"]')]
                 .filter(m => m.scrollWidth > m.clientWidth + 2)
                 .map(m => (m.getAttribute('aria-label') || m.textContent).slice(0, 60))"""
        )
        layout = wide_problems(page)
        text = page.inner_text("main")
        stderr_boxes = page.locator(
            ".cell_output .stderr, .output.stderr"
        ).count()
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(
            path=str(SHOTS / f"{page_path.replace('/', '__')}.png"),
            full_page=True,
        )
    finally:
        visit.close()

    assert not math["untypeset"], (
        f"equations left as raw TeX: {math['untypeset'][:3]}"
    )
    assert math["errors"] == 0, f"{math['errors']} MathJax errors on the page"
    assert not broken, f"images that did not load: {broken}"
    assert not wide_math, (
        f"display equations wider than the page (clipped): {wide_math}"
    )
    raw = [s for s in ("\\begin{", "$$", "\\frac{") if s in text]
    assert not raw, f"raw LaTeX visible in the page text: {raw}"
    assert stderr_boxes == 0, (
        f"{stderr_boxes} stderr outputs (warnings) shown on the page"
    )
    assert not visit.problems, "\n".join(visit.problems)
    assert not layout, "\n".join(layout)


@pytest.mark.parametrize("page_path", toc_pages())
def test_page_fits_a_phone_screen(browser, page_path):
    visit = PageVisit(browser, HTML / f"{page_path}.html", viewport=NARROW)
    try:
        wait_for_math(visit.page)
        layout = narrow_problems(visit.page)
    finally:
        visit.close()
    assert not layout, "\n".join(layout)


def test_pages_with_equations_are_typeset(browser):
    """At least the notation table on the landing page must come out as typeset math."""
    visit = PageVisit(browser, HTML / f"{toc_pages()[0]}.html")
    try:
        math = wait_for_math(visit.page)
    finally:
        visit.close()
    assert math["total"] >= 10 and not math["untypeset"]


def test_search_works_offline(browser):
    visit = PageVisit(browser, HTML / "search.html")
    try:
        visit.page.goto(
            (HTML / "search.html").as_uri() + "?q=forget+gate",
            wait_until="load",
        )
        visit.page.wait_for_selector(
            "#search-results ul.search li", timeout=20_000
        )
        hits = visit.page.locator("#search-results ul.search li").count()
    finally:
        visit.close()
    assert hits >= 1
    assert not visit.problems, "\n".join(visit.problems)
