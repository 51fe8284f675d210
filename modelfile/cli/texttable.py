"""Plain box tables for ``modelfile info``: the look of Rich's default table without importing Rich.

``info`` answers in a fraction of a second; Rich's import and layout engine took more time than
reading and linting a 2,000-layer model. Cells are plain text (no markup); a table wider than the
terminal wraps its widest columns. Styles are ANSI codes, used only on a terminal without ``NO_COLOR``.
"""

from __future__ import annotations

import os
import shutil
import sys
import textwrap
from collections.abc import Sequence
from typing import TextIO

__all__ = ["Table", "styled"]

_CODES = {"bold": "1", "red": "31", "yellow": "33", "italic": "3"}


def _color(stream: TextIO) -> bool:
    return "NO_COLOR" not in os.environ and hasattr(stream, "isatty") and stream.isatty()


def styled(text: str, style: str, stream: TextIO | None = None) -> str:
    """``text`` in ``style`` (bold, red, yellow, italic) when ``stream`` (stdout) is a colour terminal."""
    return f"\x1b[{_CODES[style]}m{text}\x1b[0m" if style and _color(stream or sys.stdout) else text


class Table:
    """Columns with a header (``columns``) or without (``show_header=False``), rows of strings."""

    def __init__(self, *columns: str, title: str = "", show_header: bool = True,
                 justify: Sequence[str] = (), styles: Sequence[str] = ()) -> None:
        self.columns = list(columns)
        self.title = title
        self.show_header = show_header
        self.justify = list(justify) + ["left"] * (len(columns) - len(justify))
        self.styles = list(styles) + [""] * (len(columns) - len(styles))
        self.rows: list[tuple[list[str], list[str]]] = []

    def add_row(self, *cells: str, styles: Sequence[str] = ()) -> None:
        """A row; ``styles`` per cell override the column's."""
        row = [str(c) for c in cells] + [""] * (len(self.columns) - len(cells))
        self.rows.append((row, [s or c for s, c in zip(list(styles) + [""] * len(row), self.styles)]))

    def render(self, width: int | None = None, stream: TextIO | None = None) -> str:
        """The table as text, at most ``width`` columns wide (the terminal's by default)."""
        stream = stream or sys.stdout
        width = width or shutil.get_terminal_size((80, 24)).columns
        cells = [r for r, _s in self.rows]
        if self.show_header:
            cells = [self.columns] + cells
        widths = [max([len(line) for r in cells for line in r[k].split("\n")] + [1]) for k in range(len(self.columns))]
        over = sum(widths) + 3 * len(widths) + 1 - width
        while over > 0:  # narrow the widest column a step at a time (as Rich folds its widest cells first)
            k = max(range(len(widths)), key=lambda i: widths[i])
            if widths[k] <= 8:
                break
            widths[k] -= 1
            over -= 1
        out: list[str] = []
        if self.title:
            out.append(styled(self.title, "italic", stream))
        heavy = self.show_header
        out.append(self._rule("┏━┳┓" if heavy else "┌─┬┐", widths))
        if self.show_header:
            out.extend(self._line(self.columns, [""] * len(widths), widths, "┃", stream, header=True))
            out.append(self._rule("┡━╇┩", widths))
        for row, styles in self.rows:
            out.extend(self._line(row, styles, widths, "│", stream))
        out.append(self._rule("└─┴┘", widths))
        return "\n".join(out) + "\n"

    @staticmethod
    def _rule(chars: str, widths: list[int]) -> str:
        left, fill, mid, right = chars
        return left + mid.join(fill * (w + 2) for w in widths) + right

    def _line(self, row: list[str], styles: list[str], widths: list[int], bar: str, stream: TextIO,
              header: bool = False) -> list[str]:
        parts = [_wrap(text, w) for text, w in zip(row, widths)]
        height = max(len(p) for p in parts)
        lines = []
        for i in range(height):
            cells = []
            for k, (p, w) in enumerate(zip(parts, widths)):
                text = p[i] if i < len(p) else ""
                pad = text.rjust(w) if self.justify[k] == "right" and not header else text.ljust(w)
                style = "bold" if header else styles[k]
                cells.append(f" {styled(pad, style, stream) if text and style else pad} ")
            lines.append(bar + bar.join(cells) + bar)
        return lines


def _wrap(text: str, width: int) -> list[str]:
    lines: list[str] = []
    for part in text.split("\n") or [""]:
        lines.extend(textwrap.wrap(part, width, break_long_words=True, break_on_hyphens=False) or [""])
    return lines
