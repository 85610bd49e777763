"""What a reader sees of a built page's layout, measured in a real browser.

Used by the browser test for every page of the book, and runnable by hand on one built page
(``python tests/page_layout.py _build/html/book/part1_cell/02_gates.html``) while a chapter is
written. The rules:

- no code block (input or output) scrolls sideways at the book's width (1280 x 900 window);
- no page is longer than ``MAX_SCREENS`` screens of that window;
- no figure is shrunk below ``MIN_IMAGE_SCALE`` of its natural size (a figure drawn at the
  book's 110 dpi with 9 pt text then shows that text at least 8 px high);
- on a phone-width window (390 px) the page is no wider than the window: a wide equation,
  table or code block scrolls inside its own box;
- no TeX is left in the prose: a ``$`` or a command such as ``\\frac`` outside code and
  typeset math means MyST did not read an equation (for example a line inside ``$...$``
  that starts with ``+ `` became a list item).
"""

from __future__ import annotations

import sys
from pathlib import Path

WIDE = {"width": 1280, "height": 900}
NARROW = {"width": 390, "height": 844}
MAX_SCREENS = 15
MIN_IMAGE_SCALE = 0.6

_WIDE_JS = """() => {
  const out = {height: document.documentElement.scrollHeight, pre: [], images: []};
  for (const pre of document.querySelectorAll('article pre')) {
    if (pre.scrollWidth > pre.clientWidth + 1) {
      out.pre.push([pre.scrollWidth, pre.clientWidth, pre.textContent.trim().slice(0, 60)]);
    }
  }
  for (const img of document.querySelectorAll('article img')) {
    if (img.naturalWidth > 0) {
      out.images.push([img.clientWidth / img.naturalWidth, img.naturalWidth,
                       img.getAttribute('src').split('/').pop()]);
    }
  }
  return out;
}"""

_RAW_TEX_JS = r"""() => {
  const article = document.querySelector('article');
  if (!article) return [];
  const copy = article.cloneNode(true);
  copy.querySelectorAll('pre, code, mjx-container, script, style, .math')
      .forEach(el => el.remove());
  const text = copy.textContent;
  const found = [];
  const re = /\$|\\(?:frac|tfrac|dfrac|mathcal|mathbf|odot|partial|sum|begin|top|sigma)\b/g;
  let m;
  while ((m = re.exec(text)) && found.length < 3) {
    found.push(text.slice(Math.max(0, m.index - 30), m.index + 30).replace(/\s+/g, ' '));
  }
  return found;
}"""

_NARROW_JS = """() => {
  const width = document.documentElement.clientWidth;
  const out = {scroll: document.documentElement.scrollWidth, width: width, culprits: []};
  if (out.scroll <= width + 1) return out;
  const clipped = el => {
    for (let p = el.parentElement; p; p = p.parentElement) {
      const s = getComputedStyle(p);
      if (['auto', 'scroll', 'hidden'].includes(s.overflowX) && p !== document.body
          && p !== document.documentElement) {
        return p.getBoundingClientRect().right <= width + 1;
      }
    }
    return false;
  };
  for (const el of document.querySelectorAll('article *')) {
    const r = el.getBoundingClientRect();
    if (r.right > width + 1 && r.width > 0 && !clipped(el)) {
      out.culprits.push(el.tagName.toLowerCase() + '.' + (el.className || '')
                        + ': ' + el.textContent.trim().slice(0, 40));
      if (out.culprits.length >= 5) break;
    }
  }
  return out;
}"""


def wide_problems(page) -> list[str]:
    """Problems of a page open in a 1280 x 900 window (math already typeset)."""
    found = page.evaluate(_WIDE_JS)
    problems = [
        f"code block scrolls sideways ({full} px in {shown} px): {text!r}"
        for full, shown, text in found["pre"]
    ]
    problems += [
        f"TeX left unread in the prose: ...{text}..."
        for text in page.evaluate(_RAW_TEX_JS)
    ]
    screens = found["height"] / WIDE["height"]
    if screens > MAX_SCREENS:
        problems.append(
            f"page is {screens:.1f} screens long (at most {MAX_SCREENS})"
        )
    problems += [
        f"figure {name} shown at {scale:.2f} of its {natural} px (at least {MIN_IMAGE_SCALE})"
        for scale, natural, name in found["images"]
        if scale < MIN_IMAGE_SCALE
    ]
    return problems


def narrow_problems(page) -> list[str]:
    """Problems of a page open in a 390 px wide window (math already typeset)."""
    found = page.evaluate(_NARROW_JS)
    if found["scroll"] <= found["width"] + 1:
        return []
    return [
        f"page is {found['scroll']} px wide on a {found['width']} px screen: "
        + "; ".join(found["culprits"])
    ]


def _main(paths: list[str]) -> int:
    from playwright.sync_api import sync_playwright

    bad = 0
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path="/usr/bin/chromium", args=["--no-sandbox"]
        )
        for name in paths:
            path = Path(name).resolve()
            for viewport, check in (
                (WIDE, wide_problems),
                (NARROW, narrow_problems),
            ):
                context = browser.new_context(viewport=viewport)
                context.route(
                    "**/*",
                    lambda r: (
                        r.continue_()
                        if r.request.url.startswith("file:")
                        else r.abort()
                    ),
                )
                page = context.new_page()
                page.goto(path.as_uri(), wait_until="load")
                if page.evaluate(
                    "document.querySelectorAll('.math').length > 0"
                ):
                    page.wait_for_function(
                        "() => window.MathJax && MathJax.startup"
                    )
                    page.evaluate("MathJax.startup.promise")
                if viewport is WIDE:
                    height = page.evaluate(
                        "document.documentElement.scrollHeight"
                    )
                    print(f"{path.name}: {height / WIDE['height']:.1f} screens")
                    shot = path.with_suffix(".png")
                    page.screenshot(path=str(shot), full_page=True)
                    print(f"  screenshot {shot}")
                for problem in check(page):
                    bad += 1
                    print(f"  {problem}")
                context.close()
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
