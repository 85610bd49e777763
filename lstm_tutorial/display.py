"""Show the package's own source code inside a notebook page.

The book never retypes a function: a chapter calls ``show_source(fn)`` and the page shows
the code that the tests exercise. The result renders as a highlighted code block both in
JupyterLab and in the built book (MyST-NB renders ``text/markdown`` outputs).

Checks: :func:`show_source` and :class:`SourceCode` check their arguments with
:mod:`lstm_tutorial.checks` before any work; an object whose source Python cannot find is
a ValueError that names it, and so is code wider than :data:`SHOWN_WIDTH` columns (the
book's code column: a wider line would scroll sideways on the page).
"""

from __future__ import annotations

import ast
import inspect
import textwrap

from lstm_tutorial import checks

#: The widest line a page may show: the book's code column holds 80 characters.
SHOWN_WIDTH = 80


class SourceCode:
    """A block of Python source that displays as a highlighted code block."""

    def __init__(self, code: str, title: str | None = None) -> None:
        self.code = checks.string("code", code, empty=True)
        self.title = checks.optional(checks.string, "title", title)

    def _repr_markdown_(self) -> str:
        header = f"`{self.title}`\n\n" if self.title else ""
        fence = "````" if "```" in self.code else "```"
        return f"{header}{fence}python\n{self.code}\n{fence}\n"

    def __repr__(self) -> str:
        return self.code

    def __str__(self) -> str:
        return self.code


def show_source(obj: object, *, docstring: bool = True) -> SourceCode:
    """Return the source of a function, class or method of the package, ready to display.

    Parameters
    ----------
    obj:
        Anything ``inspect.getsource`` accepts: a function, a class, a method.
    docstring:
        If False, the leading docstring is dropped, so that the page shows just the code
        (the prose around it explains it anyway).
    """
    if not (
        inspect.isfunction(obj) or inspect.isclass(obj) or inspect.ismethod(obj)
    ):
        raise checks.ArgumentTypeError(
            f"obj must be a function, method or class (show_source shows its code), "
            f"got {checks.describe(obj)}"
        )
    checks.boolean("docstring", docstring)
    try:
        source = inspect.getsource(obj)
    except (OSError, TypeError) as err:
        raise ValueError(
            f"obj {obj!r} has no source code Python can find: {err}"
        ) from None
    code = textwrap.dedent(source).rstrip()
    if not docstring:
        code = _strip_docstring(code)
    module = inspect.getmodule(obj)
    title = (
        f"{module.__name__}.{obj.__qualname__}" if module else obj.__qualname__
    )
    wide = [
        (number, len(line))
        for number, line in enumerate(code.splitlines(), 1)
        if len(line) > SHOWN_WIDTH
    ]
    if wide:
        number, width = wide[0]
        raise ValueError(
            f"obj {title} has {len(wide)} line(s) wider than the book's "
            f"{SHOWN_WIDTH} columns (line {number} of the shown code has "
            f"{width}): wrap them in the package"
        )
    return SourceCode(code, title=title)


def _strip_docstring(code: str) -> str:
    """Remove the docstring of the (single) top-level def or class in ``code``."""
    tree = ast.parse(code)
    node = tree.body[0]
    body = getattr(node, "body", [])
    if not (
        body
        and isinstance(body[0], ast.Expr)
        and isinstance(body[0].value, ast.Constant)
        and isinstance(body[0].value.value, str)
    ):
        return code
    lines = code.splitlines()
    doc = body[0]
    return "\n".join(lines[: doc.lineno - 1] + lines[doc.end_lineno :])
