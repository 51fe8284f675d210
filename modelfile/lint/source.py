"""Positions inside an ncnn ``.param``: each layer line split into tokens with their columns.

The reader keeps every layer's raw line (:class:`~modelfile.formats.ncnn.reader.LineSource`);
rules use :class:`LayerLine` to point at the exact token (a blob name, a
``key=value``) instead of the start of the line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..errors import Diagnostic
from ..formats.ncnn.reader import LineSource, NcnnDocument
from ..graph import Graph, Node
from .rules import Rule

__all__ = ["LayerLine", "NcnnFile", "ParamTok", "Tok"]

# A token is a run of non-white characters; a double-quoted part may hold spaces (6="1w, 1h").
_TOKEN = re.compile(r'(?:"[^"\n]*"?|[^\s"])+')


@dataclass(frozen=True, slots=True)
class Tok:
    """A token of a layer line and its 1-based column."""

    text: str
    col: int

    @property
    def end(self) -> int:
        """Column just past the token."""
        return self.col + len(self.text)


@dataclass(frozen=True, slots=True)
class ParamTok:
    """A ``key=value`` token: key text, value text and their columns."""

    key: str
    value: str
    col: int
    value_col: int

    @property
    def end(self) -> int:
        return self.value_col + len(self.value)


@dataclass(slots=True)
class LayerLine:
    """One layer line split the way ncnn reads it (counts drive the bottom/top split)."""

    lineno: int
    body: str
    type: Tok
    name: Tok
    bottoms: list[Tok]
    tops: list[Tok]
    params: list[ParamTok]

    @classmethod
    def parse(cls, lineno: int, raw: str) -> "LayerLine | None":
        body = raw.rstrip("\n")
        if body.endswith("\r"):
            body = body[:-1]
        toks = [Tok(m.group(), m.start() + 1) for m in _TOKEN.finditer(body)]
        if len(toks) < 4:
            return None
        try:
            nb, nt = int(toks[2].text), int(toks[3].text)
        except ValueError:
            return None
        if nb < 0 or nt < 0 or len(toks) < 4 + nb + nt:
            return None
        params: list[ParamTok] = []
        for t in toks[4 + nb + nt:]:
            key, sep, value = t.text.partition("=")
            if not sep or not re.fullmatch(r"[-+]?[0-9]+", key):
                return None
            params.append(ParamTok(key, value, t.col, t.col + len(key) + 1))
        return cls(lineno, body, toks[0], toks[1], toks[4:4 + nb], toks[4 + nb:4 + nb + nt], params)

    def param(self, pid: int) -> ParamTok | None:
        """The last ``key=value`` for param id ``pid`` (the one ncnn keeps)."""
        hit = None
        for p in self.params:
            k = int(p.key)
            if k == pid or (k <= -23300 and -k - 23300 == pid):
                hit = p
        return hit


@dataclass(slots=True)
class NcnnFile:
    """What the ncnn and sherpa rules look at: the graph, the document and the lines."""

    path: str
    graph: Graph
    doc: NcnnDocument | None  # None for a binary .param.bin
    #: True/False forces the sherpa rules on/off; None = decide from the file
    sherpa: bool | None = None
    #: layer types the app registers itself (known, and not checked against ncnn's built-in table)
    custom_layers: frozenset[str] = frozenset()
    _lines: dict[int, LayerLine | None] = field(default_factory=dict)
    cache: dict[str, Any] = field(default_factory=dict)

    def line(self, node: Node) -> LayerLine | None:
        """The tokenised source line of ``node`` (None for layers without one)."""
        key = id(node)
        if key not in self._lines:
            src = node.source
            self._lines[key] = LayerLine.parse(src.lineno, src.raw) if isinstance(src, LineSource) else None
        return self._lines[key]

    def lineno(self, node: Node) -> int:
        src = node.source
        return src.lineno if isinstance(src, LineSource) else 0

    def at(self, rule: Rule, node: Node | None, tok: Tok | ParamTok | None, message: str, *,
           hint: str | None = None, col: int = 0, end: int = 0) -> Diagnostic:
        """A finding of ``rule`` at ``tok`` of ``node``'s line, or at ``col`` (to ``end``) when given
        (the type token when neither is)."""
        line = self.lineno(node) if node is not None else 0
        if tok is not None and not col:
            col, end = tok.col, tok.end
        elif node is not None and not col and line:
            ll = self.line(node)
            col = ll.type.col if ll else 1
        return rule.diag(message, self.path, line, col, hint=hint, end_column=end)
