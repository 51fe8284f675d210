"""Positions inside an ncnn ``.param``: each layer line split into tokens with their columns.

The reader keeps every layer's raw line (:class:`~modelfile.formats.ncnn.reader.LineSource`);
rules use :class:`LayerLine` to point at the exact token (a blob name, a
``key=value``) instead of the start of the line.

Lint splits every line of a model, so the split is cheap: a line without a double quote is split
with ``str.split`` (the same tokens as the quote-aware regex, which only differs inside quotes),
columns are found only when a rule asks for a position, and the ``key=value`` pairs are plain
string pairs (:attr:`LayerLine.items`) with :class:`ParamTok` built on demand.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from ..errors import Diagnostic
from ..formats.ncnn.reader import LineSource, NcnnDocument
from ..graph import Graph, Node, Value
from .rules import Rule

__all__ = ["LayerLine", "NcnnFile", "ParamTok", "Tok"]

# A token is a run of non-white characters; a double-quoted part may hold spaces (6="1w, 1h").
_TOKEN = re.compile(r'(?:"[^"\n]*"?|[^\s"])+')
_KEY = re.compile(r"[-+]?[0-9]+")
#: param keys already seen to be well-formed (a few dozen in practice: -23331..31)
_GOOD_KEYS: set[str] = set()
_ARRAY_KEY_BASE = -23300


class Tok(NamedTuple):
    """A token of a layer line and its 1-based column."""

    text: str
    col: int

    @property
    def end(self) -> int:
        """Column just past the token."""
        return self.col + len(self.text)


class ParamTok(NamedTuple):
    """A ``key=value`` token: key text, value text and their columns."""

    key: str
    value: str
    col: int
    value_col: int

    @property
    def end(self) -> int:
        return self.value_col + len(self.value)


class LayerLine:
    """One layer line split the way ncnn reads it (counts drive the bottom/top split)."""

    __slots__ = ("lineno", "body", "words", "nb", "nt", "items", "tail", "_cols", "_params", "_index")

    def __init__(self, lineno: int, body: str, words: list[str], nb: int, nt: int, items: list[tuple[str, str]],
                 cols: list[int] | None = None, tail: str | None = None) -> None:
        self.lineno = lineno
        self.body = body
        #: every token's text: type, name, counts, blob names, then the ``key=value`` tokens
        self.words = words
        self.nb = nb
        self.nt = nt
        #: ``(key text, value text)`` of every ``key=value`` token, in line order
        self.items = items
        #: the ``key=value`` tokens joined by one space, for a line without quotes (None with quotes): the
        #: same tail and counts mean the same :attr:`items`, so rules key their per-line caches on it
        self.tail = tail
        self._cols = cols
        self._params: list[ParamTok] | None = None
        self._index: dict[int, int] | None = None

    @classmethod
    def parse(cls, lineno: int, raw: str, tails: "dict[str, list[tuple[str, str]] | None] | None" = None,
              ) -> "LayerLine | None":
        """Split ``raw`` (None when it does not split into type, name, counts, blobs and key=value tokens).

        ``tails``: the items of tails already split (a file repeats the same params on many lines).
        """
        body = raw.rstrip("\n")
        if body.endswith("\r"):
            body = body[:-1]
        cols: list[int] | None = None
        quoted = '"' in body
        if quoted:
            ms = list(_TOKEN.finditer(body))
            words = [m.group() for m in ms]
            cols = [m.start() + 1 for m in ms]
        else:  # without quotes the tokens are exactly the whitespace-separated runs
            words = body.split()
        if len(words) < 4:
            return None
        try:
            nb, nt = int(words[2]), int(words[3])
        except ValueError:
            return None
        start = 4 + nb + nt
        if nb < 0 or nt < 0 or len(words) < start:
            return None
        if quoted:
            items = _split_items(words[start:])
            return None if items is None else cls(lineno, body, words, nb, nt, items, cols)
        # the tokens of a line without quotes hold no white space: the tail gives them back exactly
        tail = " ".join(words[start:])
        if tails is None:
            items = _split_items(words[start:])
        elif (known := tails.get(tail, _UNSEEN)) is not _UNSEEN:
            items = known
        else:
            items = tails[tail] = _split_items(words[start:])
        return None if items is None else cls(lineno, body, words, nb, nt, items, cols, tail)

    def _columns(self) -> list[int]:
        cols = self._cols
        if cols is None:
            cols = []
            body, pos = self.body, 0
            for w in self.words:
                # tokens are maximal non-white runs, so the next occurrence at or after pos is the token itself
                pos = body.find(w, pos)
                cols.append(pos + 1)
                pos += len(w)
            self._cols = cols
        return cols

    def tok(self, i: int) -> Tok:
        """The ``i``-th token (0 type, 1 name, 2/3 counts, then blob names and params)."""
        return Tok(self.words[i], self._columns()[i])

    @property
    def type(self) -> Tok:
        return self.tok(0)

    @property
    def name(self) -> Tok:
        return self.tok(1)

    @property
    def bottoms(self) -> list[Tok]:
        return [self.tok(4 + k) for k in range(self.nb)]

    @property
    def tops(self) -> list[Tok]:
        return [self.tok(4 + self.nb + k) for k in range(self.nt)]

    def param_at(self, i: int) -> ParamTok:
        """The ``i``-th ``key=value`` token with its columns."""
        key, value = self.items[i]
        col = self._columns()[4 + self.nb + self.nt + i]
        return ParamTok(key, value, col, col + len(key) + 1)

    @property
    def params(self) -> list[ParamTok]:
        if self._params is None:
            self._params = [self.param_at(i) for i in range(len(self.items))]
        return self._params

    def param(self, pid: int) -> ParamTok | None:
        """The last ``key=value`` for param id ``pid`` (the one ncnn keeps; ``-233NN`` arrays count as id NN)."""
        index = self._index
        if index is None:
            index = {}
            for i, (key, _v) in enumerate(self.items):
                k = int(key)
                index[-k + _ARRAY_KEY_BASE if k <= _ARRAY_KEY_BASE else k] = i
            self._index = index
        i = index.get(pid)
        return None if i is None else self.param_at(i)


_UNSEEN: Any = object()


def _split_items(tokens: list[str]) -> list[tuple[str, str]] | None:
    """``(key, value)`` of every ``key=value`` token (None: a token is not one)."""
    items: list[tuple[str, str]] = []
    good = _GOOD_KEYS
    for w in tokens:
        key, sep, value = w.partition("=")
        if not sep:
            return None
        if key not in good:
            if not _KEY.fullmatch(key):
                return None
            if len(good) < 4096:
                good.add(key)
        items.append((key, value))
    return items


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
    #: tail of a layer line -> its items (see :meth:`LayerLine.parse`)
    _tails: dict[str, list[tuple[str, str]] | None] = field(default_factory=dict)
    cache: dict[str, Any] = field(default_factory=dict)

    def line(self, node: Node) -> LayerLine | None:
        """The tokenised source line of ``node`` (None for layers without one)."""
        key = id(node)
        ll = self._lines.get(key, _UNSEEN)  # (not try/except: the first call per node would raise)
        if ll is _UNSEEN:
            src = node.source
            ll = LayerLine.parse(src.lineno, src.raw, self._tails) if isinstance(src, LineSource) else None
            self._lines[key] = ll
        return ll

    def heads(self) -> list[tuple[int, int, str] | None]:
        """For each node of the graph, in order: ``(bottoms, tops, tail)`` of its line as :meth:`LayerLine.parse`
        reads them (:attr:`LayerLine.nb`, ``nt`` and ``tail``), for a line without quotes or tabs whose type,
        name, counts and blob names split; None for other lines and layers without one.

        One pass, no token objects kept: the rules that cache their verdict per (type, counts, tail) look
        a line up here first and split it into a :class:`LayerLine` only when the verdict is not known
        yet. When a line of the same tail and counts did split, this one does too (its ``key=value``
        tokens are the same).
        """
        heads = self.cache.get("heads")
        if heads is None:
            heads = []
            add = heads.append
            for node in self.graph.nodes:
                src = node.source
                if not isinstance(src, LineSource):
                    add(None)
                    continue
                raw = src.raw
                if '"' in raw or "\t" in raw:
                    add(None)
                    continue
                words = raw.split()  # (the line ending is white space to split: the same tokens as the body's)
                try:
                    nb, nt = int(words[2]), int(words[3])
                except (IndexError, ValueError):
                    add(None)
                    continue
                start = 4 + nb + nt
                if nb < 0 or nt < 0 or len(words) < start:
                    add(None)
                    continue
                add((nb, nt, " ".join(words[start:])))
            self.cache["heads"] = heads
        return heads

    def lineno(self, node: Node) -> int:
        src = node.source
        return src.lineno if isinstance(src, LineSource) else 0

    def values(self) -> list[Value]:
        """``graph.values()``, computed once (the rules only read the graph)."""
        vals = self.cache.get("values")
        if vals is None:
            vals = self.cache["values"] = list(self.graph.values())
        return vals

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
