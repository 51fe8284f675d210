"""Position-keeping XML scanning for IR files.

Why not build an lxml tree and walk it: on a 20,000-layer IR, lxml's parse
alone costs about a third of ``read_model``'s time and walking ~200k element
proxies from Python costs more again. IR files are machine written in a very
regular shape, so the reader matches each ``<layer>`` with compiled regexes
(:data:`FAST_HEAD` and :data:`FAST_REST`, together a strict subset of XML:
double-quoted attributes, no entity references, no comments inside; the writer
re-reads such a layer with the equivalent :data:`FAST_LAYER`) and falls back to :func:`parse_element`,
a small complete XML element scanner, for everything else (bodies, rt_info,
comments, single quotes, entities ...). Both keep character offsets into the
original text, which is what makes byte-exact splicing in the writer possible.

The scanner never expands entities beyond the five predefined ones and
character references and refuses DTDs, so it is safe on untrusted input.
lxml (with a locked-down parser) is only used to produce a precise message
when the scanner rejects a document.
"""

from __future__ import annotations

import re

__all__ = [
    "EDGE_FAST", "El", "FAST_HEAD", "FAST_LAYER", "FAST_REST", "Misc", "fast_tag_span", "ScanError", "attr_unescape",
    "escape_attr", "escape_text", "line_col", "parse_element", "skip_misc", "text_unescape",
]


class ScanError(Exception):
    """The scanner could not accept the text at ``pos``."""

    def __init__(self, pos: int, message: str) -> None:
        super().__init__(message)
        self.pos = pos
        self.message = message


_NAME = r"(?:[^\W\d]|:)[\w.:\-]*"  # an XML name: a letter, '_' or ':' first

# ---- fast path: one regex per layer as written by OpenVINO's serializer / MO -----------------
# attribute lists with double quotes only and no '&', '<', tab/newline in values: values need no
# unescaping or normalisation, so a dict of the findall result is exactly what an XML parser gives.
# Possessive quantifiers (Python 3.11+) keep the regex engine from backtracking through ports.
_A = r'(?:\s+' + _NAME + r'="[^"<&\t\n\r]*+")*+\s*+'
_RT = r'(?:<rt_info\s*/>|<rt_info>(?:\s*<attribute' + _A + r'/>)*+\s*</rt_info>)'
_PORT = r'<port' + _A + r'(?:/>|>(?:\s*+<dim>[^<&]*+</dim>|\s*' + _RT + r')*+\s*</port>)'
_V = r'"([^"<&\t\n\r]*+)"'
#: groups: 1 leading whitespace; 2-5 id, name, type, version when the start tag has exactly those, in the
#: serializer's order (no attribute parsing needed), else 6 the attribute list; 7 ``<data>`` attributes;
#: 8 the ``<input>`` ports; 9 the ``<output>`` ports
FAST_LAYER = re.compile(
    r'(\s*+)<layer(?: id=' + _V + r' name=' + _V + r' type=' + _V + r' version=' + _V + r'\s*+|(' + _A + r'))>\s*+'
    r'(?:<data(' + _A + r')(?:/>|>\s*</data>)\s*+)?'
    r'(?:' + _RT + r'\s*)?'
    r'(?:<input>((?:\s*+' + _PORT + r')*+)\s*</input>\s*+|<input\s*/>\s*)?'
    r'(?:<output>((?:\s*+' + _PORT + r')*+)\s*</output>\s*+|<output\s*/>\s*)?'
    r'(?:' + _RT + r'\s*)?'
    r'</layer>')


# The loader's per-layer scan is split in two so that repeated text is only matched once:
# FAST_HEAD matches the start tag and ``<data>`` (unique per layer: id, name, Const offsets); the rest up
# to ``</layer>`` (the ports) is compared with the previous layer of the same type or found with str.find,
# and validated with FAST_REST only the first time that exact text is seen (a big IR has a handful of
# distinct port blocks without tensor names).
# Together they accept a subset of FAST_LAYER (XML whitespace and ASCII attribute names only, so the
# common case avoids Unicode class lookups); anything else goes to the general scanner.
_W = r'[ \t\r\n]'
_A_ASCII = r'(?:' + _W + r'++[A-Za-z_:][A-Za-z0-9_.:\-]*+="[^"<&\t\n\r]*+")*+' + _W + r'*+'
#: groups: 1 leading whitespace; 2-5 id, name, type, version when the start tag has exactly those in the
#: serializer's order, else 6 the attribute list; 7 the ``<data>`` attributes
FAST_HEAD = re.compile(
    r'(' + _W + r'*+)<layer(?: id=' + _V + r' name=' + _V + r' type=' + _V + r' version=' + _V + _W + r'*+'
    r'|(' + _A_ASCII + r'))>' + _W + r'*+'
    r'(?:<data(' + _A_ASCII + r')(?:/>|>' + _W + r'*+</data>)' + _W + r'*+)?')
#: what follows FAST_HEAD up to ``</layer>`` (use with fullmatch): groups 1 the ``<input>`` ports,
#: 2 the ``<output>`` ports
FAST_REST = re.compile(
    r'(?:' + _RT + r'\s*)?'
    r'(?:<input>((?:\s*+' + _PORT + r')*+)\s*</input>\s*+|<input\s*/>\s*)?'
    r'(?:<output>((?:\s*+' + _PORT + r')*+)\s*</output>\s*+|<output\s*/>\s*)?'
    r'(?:' + _RT + r'\s*)?')


def fast_tag_span(m: "re.Match[str]") -> tuple[int, int]:
    """Offsets of the attribute list of a :data:`FAST_LAYER` match's start tag (after ``<layer``)."""
    start = m.end(1) + len("<layer")
    if m.group(6) is not None:
        return start, m.end(6)
    return start, m.string.index(">", m.end(5))


FAST_ATTR = re.compile(r'(' + _NAME + r')="([^"]*)"')
FAST_PORT = re.compile(r'<port(' + _A + r')(?:/>|>(.*?)</port>)', re.S)
FAST_PORT_ID_FIRST = re.compile(r'<port id="([^"]*)"')
FAST_DIM = re.compile(r'<dim>([^<]*)</dim>')
#: one edge as the serializer writes it (a block is "fast" when every '<' in it starts such an edge)
#: (ASCII classes: the Unicode ones cost a table lookup per character)
EDGE_FAST = re.compile(r'<edge from-layer="([0-9]++)" from-port="([0-9]++)" to-layer="([0-9]++)" to-port="([0-9]++)"'
                       r'[ \t\r\n]*+/>')

# ---- general scanner ---------------------------------------------------------------------------
_TOKEN = re.compile(
    r'<!--(?P<c>.*?)-->'
    r'|<!\[CDATA\[(?P<cd>.*?)\]\]>'
    r'|<\?(?P<pi>.*?)\?>'
    r'|</(?P<e>' + _NAME + r')\s*>'
    r'|<(?P<s>' + _NAME + r')(?P<a>(?:\s+' + _NAME + r'\s*=\s*(?:"[^"<]*"|\'[^\'<]*\'))*)\s*(?P<x>/?)>'
    r'|(?P<t>[^<]+)',
    re.S)
_GATTR = re.compile(r'(' + _NAME + r')\s*=\s*(?:"([^"<]*)"|\'([^\'<]*)\')')
_MISC = re.compile(r'(?:[^<]+|<!--.*?-->|<\?.*?\?>)*', re.S)
_ENTITY = re.compile(r'&(?:(amp|lt|gt|quot|apos)|#([0-9]+)|#x([0-9a-fA-F]+));|&')
_PREDEF = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}


class Misc:
    """A comment, processing instruction, CDATA section or text run inside an element."""

    __slots__ = ("kind", "start", "end", "value")

    def __init__(self, kind: str, start: int, end: int, value: str) -> None:
        self.kind = kind  # "comment" | "pi" | "cdata" | "text"
        self.start = start
        self.end = end
        self.value = value


class El:
    """An element with offsets: ``text[start:end]`` is the element, ``[inner_start:inner_end]`` its content.

    ``attrs`` are unescaped values in document order; ``attr_spans`` give, per
    attribute, the offset of its name and of its raw value (inside the quotes);
    ``tag_end`` is the end of the start tag.
    """

    __slots__ = ("tag", "attrs", "attr_spans", "start", "tag_end", "inner_start", "inner_end", "end",
                 "children", "empty", "quote")

    def __init__(self, tag: str, start: int) -> None:
        self.tag = tag
        self.attrs: dict[str, str] = {}
        self.attr_spans: dict[str, tuple[int, int, int]] = {}
        self.start = start
        self.tag_end = start
        self.inner_start = start
        self.inner_end = start
        self.end = start
        self.children: list[El | Misc] = []
        self.empty = False
        self.quote: dict[str, str] = {}

    def elements(self, tag: str | None = None) -> list["El"]:
        """Child elements (optionally only those with ``tag``)."""
        return [c for c in self.children if isinstance(c, El) and (tag is None or c.tag == tag)]

    def find(self, tag: str) -> "El | None":
        """First child element with ``tag``."""
        for c in self.children:
            if isinstance(c, El) and c.tag == tag:
                return c
        return None

    def text(self) -> str:
        """Concatenated character data of the direct children."""
        return "".join(c.value for c in self.children if isinstance(c, Misc) and c.kind in ("text", "cdata"))

    def __repr__(self) -> str:
        return f"El({self.tag!r}, {self.start}:{self.end})"


def line_col(text: str, pos: int) -> tuple[int, int]:
    """1-based line and column of offset ``pos``."""
    pos = max(0, min(pos, len(text)))
    line = text.count("\n", 0, pos) + 1
    col = pos - (text.rfind("\n", 0, pos) + 1) + 1
    return line, col


def _unescape(s: str, pos: int) -> str:
    def repl(m: re.Match[str]) -> str:
        if m.group(1):
            return _PREDEF[m.group(1)]
        num = m.group(2) or m.group(3)
        if num is None:
            ref = re.match(r"&[^\s;&<]{0,40};?", s[m.start():])
            raise ScanError(pos, f"undefined entity {ref.group(0) if ref else '&'} (only &amp; &lt; &gt; &quot; "
                                 f"&apos; and &#N; exist without a DTD, and DTDs/entities are not allowed)")
        code = int(num, 10 if m.group(2) else 16)
        try:
            return chr(code)
        except (ValueError, OverflowError):
            raise ScanError(pos, f"invalid character reference {m.group(0)}") from None
    return _ENTITY.sub(repl, s)


def attr_unescape(raw: str, pos: int = 0) -> str:
    """An attribute value as an XML parser reports it (whitespace normalised, references resolved)."""
    if "\r" in raw:
        raw = raw.replace("\r\n", "\n").replace("\r", "\n")
    if "\n" in raw or "\t" in raw:
        raw = raw.replace("\n", " ").replace("\t", " ")
    if "&" in raw:
        raw = _unescape(raw, pos)
    return raw


def text_unescape(raw: str, pos: int = 0) -> str:
    """Character data as an XML parser reports it."""
    if "\r" in raw:
        raw = raw.replace("\r\n", "\n").replace("\r", "\n")
    if "&" in raw:
        raw = _unescape(raw, pos)
    return raw


_ATTR_ESC = {"&": "&amp;", "<": "&lt;", '"': "&quot;"}
_ATTR_ESC_RE = re.compile(r'[&<"\x00-\x1f]')
_TEXT_ESC_RE = re.compile(r'[&<>]')


def escape_attr(value: str) -> str:
    """Escape an attribute value the way pugixml (OpenVINO's serializer) does."""
    if not _ATTR_ESC_RE.search(value):
        return value
    return _ATTR_ESC_RE.sub(lambda m: _ATTR_ESC.get(m.group(0)) or f"&#{ord(m.group(0)):02d};", value)


def escape_text(value: str) -> str:
    """Escape character data."""
    if not _TEXT_ESC_RE.search(value):
        return value
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def skip_misc(text: str, pos: int, end: int | None = None) -> int:
    """Skip text, comments and processing instructions; return the offset of the next tag (or ``end``)."""
    m = _MISC.match(text, pos, len(text) if end is None else end)
    return m.end() if m else pos


def _fill_attrs(el: El, raw: str, base: int) -> None:
    for m in _GATTR.finditer(raw):
        name = m.group(1)
        if name in el.attrs:
            raise ScanError(base + m.start(), f"attribute {name!r} appears twice")
        if m.group(2) is not None:
            vs, ve, q = m.start(2), m.end(2), '"'
            val = m.group(2)
        else:
            vs, ve, q = m.start(3), m.end(3), "'"
            val = m.group(3)
        el.attrs[name] = attr_unescape(val, base + vs)
        el.attr_spans[name] = (base + m.start(), base + vs, base + ve)
        if q != '"':
            el.quote[name] = q


def parse_element(text: str, pos: int, limit: int | None = None) -> El:
    """Parse the element starting at ``text[pos]`` (which must be ``<``) with offsets.

    Raises :class:`ScanError` on anything that is not well-formed XML
    (mismatched tags, bad attributes, undefined entities, DTD syntax).
    """
    end_limit = len(text) if limit is None else limit
    match = _TOKEN.match
    m = match(text, pos, end_limit)
    if m is None or m.group("s") is None:
        if text.startswith("<!DOCTYPE", pos) or text.startswith("<!ENTITY", pos):
            raise ScanError(pos, "DTDs/entities are not allowed")
        raise ScanError(pos, "expected an element")
    root = El(m.group("s"), pos)
    _fill_attrs(root, m.group("a"), m.start("a"))
    root.tag_end = m.end()
    if m.group("x"):
        root.empty = True
        root.inner_start = root.inner_end = root.end = m.end()
        return root
    root.inner_start = m.end()
    stack = [root]
    p = m.end()
    while True:
        m = match(text, p, end_limit)
        if m is None:
            if p >= end_limit:
                raise ScanError(p, f"unexpected end of file inside <{stack[-1].tag}>")
            if text.startswith("<!DOCTYPE", p) or text.startswith("<!ENTITY", p):
                raise ScanError(p, "DTDs/entities are not allowed")
            raise ScanError(p, "malformed markup")
        kind = m.lastgroup
        top = stack[-1]
        if kind == "x":  # a start tag (its last group is the optional '/')
            el = El(m.group("s"), p)
            if m.group("a"):
                _fill_attrs(el, m.group("a"), m.start("a"))
            el.tag_end = m.end()
            top.children.append(el)
            if m.group("x"):
                el.empty = True
                el.inner_start = el.inner_end = el.end = m.end()
            else:
                el.inner_start = m.end()
                stack.append(el)
        elif kind == "e":
            name = m.group("e")
            if name != top.tag:
                raise ScanError(p, f"</{name}> does not close <{top.tag}>")
            top.inner_end = p
            top.end = m.end()
            stack.pop()
            if not stack:
                return root
        elif kind == "t":
            raw = m.group("t")
            top.children.append(Misc("text", p, m.end(), text_unescape(raw, p) if "&" in raw or "\r" in raw else raw))
        elif kind == "c":
            top.children.append(Misc("comment", p, m.end(), m.group("c")))
        elif kind == "cd":
            top.children.append(Misc("cdata", p, m.end(), m.group("cd")))
        else:
            top.children.append(Misc("pi", p, m.end(), m.group("pi")))
        p = m.end()


def start_tag(text: str, pos: int) -> El:
    """Parse only the start tag at ``pos`` (content offsets are left unset unless it is empty)."""
    m = _TOKEN.match(text, pos)
    if m is None or m.group("s") is None:
        if text.startswith("<!DOCTYPE", pos) or text.startswith("<!ENTITY", pos):
            raise ScanError(pos, "DTDs/entities are not allowed")
        raise ScanError(pos, "expected an element")
    el = El(m.group("s"), pos)
    _fill_attrs(el, m.group("a"), m.start("a"))
    el.tag_end = m.end()
    el.inner_start = m.end()
    if m.group("x"):
        el.empty = True
        el.inner_end = el.end = m.end()
    return el


def end_tag_at(text: str, pos: int) -> tuple[str, int] | None:
    """``(name, end)`` if an end tag starts at ``pos``."""
    m = _TOKEN.match(text, pos)
    if m is not None and m.lastgroup == "e":
        return m.group("e"), m.end()
    return None
