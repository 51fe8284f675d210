"""Errors of the mo language: a message and the column it is about."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .locations import Resolution

# --------------------------------------------------------------------------------------------
# Errors


class MoSyntaxError(ValueError):
    """A bad ``--input``/``--output`` string: ``.text``, 1-based ``.column``, ``.message``."""

    def __init__(self, message: str, text: str, column: int, option: str = "--input") -> None:
        super().__init__(message)
        self.message = message
        self.text = text
        self.column = max(1, column)
        #: the command-line option the text came from; only used in the rendered message
        self.option = option

    def __str__(self) -> str:
        # The option strings are single-line, hence the fixed line number 1.
        return f"{self.option}:1:{self.column}: {self.message}"

    def excerpt(self) -> str:
        """The text with a caret line under :attr:`column`."""
        # Tabs are kept in the pad so the caret lines up in a terminal.
        pad = "".join(ch if ch == "\t" else " " for ch in self.text[: self.column - 1])
        return f"{self.text}\n{pad}^"


class MoResolveError(MoSyntaxError):
    """A location that names nothing in the graph, or several different things.

    A subclass of :class:`MoSyntaxError` so that a CLI catching that reports every problem with
    an option string in the same one-line form.
    """

    def __init__(
        self,
        message: str,
        text: str,
        column: int = 1,
        option: str = "--input",
        candidates: tuple[Resolution, ...] = (),
    ) -> None:
        super().__init__(message, text, column, option)
        self.candidates = candidates
