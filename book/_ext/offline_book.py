"""A small Sphinx extension that keeps the built book free of network requests.

Jupyter Book 1.x always loads sphinx-thebe, which writes a CDN address for Thebe into every
page even when Thebe is switched off (as it is here: code runs locally, see the README).
This extension drops those scripts from every page. MathJax is served from the book itself by
the sphinx-mathjax-offline extension.

It also adds the book's small style sheet (static/book.css): wide equations, tables and long
inline names scroll or wrap inside their own box, so that no page is wider than a phone's
screen.
"""

from __future__ import annotations

from pathlib import Path

STATIC = Path(__file__).resolve().parent / "static"


def _is_thebe(script) -> bool:
    filename = str(getattr(script, "filename", script) or "")
    body = str(getattr(script, "attributes", {}).get("body", ""))
    return "thebe" in filename.lower() or "thebe" in body.lower()


def _drop_thebe_scripts(app, pagename, templatename, context, doctree) -> None:
    scripts = context.get("script_files")
    if scripts:
        context["script_files"] = [s for s in scripts if not _is_thebe(s)]


def _add_static(app, config) -> None:
    config.html_static_path = [*config.html_static_path, str(STATIC)]


def setup(app):
    app.connect("html-page-context", _drop_thebe_scripts, priority=900)
    app.connect("config-inited", _add_static)
    app.add_css_file("book.css")
    return {"parallel_read_safe": True, "parallel_write_safe": True}
