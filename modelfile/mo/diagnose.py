"""Lark errors -> :class:`MoSyntaxError` with the column a person looks at."""

from __future__ import annotations

import re
from typing import Iterable

from lark.exceptions import (
    UnexpectedCharacters,
    UnexpectedEOF,
    UnexpectedInput,
    UnexpectedToken,
)

from .errors import MoSyntaxError

# --------------------------------------------------------------------------------------------
# Lark errors -> MoSyntaxError


_HUMAN = {
    "NAME": "a name", "DIM": "a dimension", "TYPE_NAME": "an element type",
    "NUMBER": "a value", "BOOL": "a value", "STRING": "a value",
    "LSQB": "'['", "RSQB": "']'", "LPAR": "'('", "RPAR": "')'", "LBRACE": "'{'",
    "RBRACE": "'}'", "ARROW": "'->'", "COMMA": "','", "$END": "end of text",
}
_OPENERS = {"[": "]", "(": ")", "{": "}"}
_WORD = re.compile(r"->|[\[\](){},]|(?:[^\s\[\](){},\-]|-(?!>))+")
_STRING = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")
_VALUE_START = re.compile(r"[+\-.0-9'\"]|True|False|true|false")


def _translate(e: UnexpectedInput, text: str, start: str, option: str) -> MoSyntaxError:
    if isinstance(e, UnexpectedCharacters):
        pos, expected = e.pos_in_stream, set(e.allowed or ())
    elif isinstance(e, UnexpectedToken):
        at_end = e.token.type == "$END"
        pos = len(text) if at_end else e.token.start_pos
        expected = set(e.expected or ())
    elif isinstance(e, UnexpectedEOF):
        pos, expected = len(text), set(e.expected or ())
    else:  # pragma: no cover - Lark has no other UnexpectedInput kinds today
        pos, expected = getattr(e, "pos_in_stream", 0) or 0, set()
    pos = min(max(pos or 0, 0), len(text))

    def err(msg: str, at: int = pos) -> MoSyntaxError:
        return MoSyntaxError(msg, text, at + 1, option)

    if not text.strip():
        return err(f"empty {option}", 0)
    m = _WORD.match(text, pos)
    got = m.group(0) if m else (text[pos] if pos < len(text) else "")
    unclosed, arrow_before = _scan(text, pos)
    # LALR merges states, so `expected` may list value tokens where none fits; only trust it
    # for "a value is missing" when the item really has an arrow before the error.
    wants_value = bool(expected & {"NUMBER", "BOOL", "STRING"}) and arrow_before

    if got == "":
        if unclosed is not None:
            ch, at = unclosed
            return err(f"unclosed '{ch}': missing '{_OPENERS[ch]}'", at)
        stripped = text.rstrip()
        if stripped.endswith(","):
            return err("empty item after the last ','", len(stripped) - 1)
        if stripped.endswith("->"):
            return err("missing value after '->'")
        if "TYPE_NAME" in expected:
            return err("missing element type inside '{}'")
        return err(f"unexpected end of text; expected {_expected(expected)}")
    if got in ("]", ")", "}"):
        if unclosed is None:
            return err(f"unmatched '{got}'")
        ch, at = unclosed
        if _OPENERS[ch] != got:
            return err(f"'{ch}' at column {at + 1} is closed by '{got}'; expected '{_OPENERS[ch]}'")
    if start == "output_list" and got in ("[", "(", "{", "->"):
        return err(f"--output takes names (with an optional N:op or op:N port) only, not '{got}'")
    if got == "->":
        if arrow_before:
            return err("Wrong syntax to specify value: two '->' in one item")
        return err("'->' must follow the name of an input")
    if "DIM" in expected:
        return err(f"bad dimension '{got}': expected an integer, -1, ?, a..b, ..b or a..")
    if got[0] in "'\"" and _STRING.match(text, pos) is None:
        return err("unterminated quoted string")
    if got == "[" and arrow_before and unclosed is not None and unclosed[0] == "[":
        return err("nested lists are not supported in a value")
    if got in ("[", "(", "{") and arrow_before:
        return err(f"unexpected '{got}': shape and type must come before '->'")
    if arrow_before and _VALUE_START.match(got):
        return err(f"unexpected '{got}' after the value; write a list in brackets: ->[1 2]")
    if wants_value:
        return err(f"bad value '{got}': expected a number, True/False, a quoted string or [..]")
    if "TYPE_NAME" in expected:
        return err(f"expected an element type inside '{{}}', got '{got}'")
    if got == "," and "NAME" in expected:
        return err("empty item (two commas, or a comma at the start)")
    return err(f"unexpected '{got}'; expected {_expected(expected)}")


def _expected(names: Iterable[str]) -> str:
    human = sorted({_HUMAN.get(n, n) for n in names})
    if not human:
        return "nothing"
    return ", ".join(human[:-1]) + (" or " if len(human) > 1 else "") + human[-1]


def _scan(text: str, end: int) -> tuple[tuple[str, int] | None, bool]:
    """Up to ``end``: the innermost unclosed bracket (char, 0-based position) and whether the
    current item already had a ``->``."""
    stack: list[tuple[str, int]] = []
    after_arrow = False
    i = 0
    while i < end:
        ch = text[i]
        if text.startswith("->", i):
            after_arrow = True
            i += 2
            continue
        if after_arrow and ch in "'\"":
            # Quoted strings only exist in values; skip them so "['a]']" balances.
            j = i + 1
            while j < len(text) and text[j] != ch:
                j += 2 if text[j] == "\\" else 1
            i = j + 1
            continue
        if ch in _OPENERS:
            stack.append((ch, i))
        elif ch in ")]}" and stack:
            stack.pop()
        elif ch == "," and not stack:
            after_arrow = False
        i += 1
    return (stack[-1] if stack else None), after_arrow
