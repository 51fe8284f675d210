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
        if not _is_xml_char(code):  # &#0; and friends: no XML parser accepts them (lxml: "invalid xmlChar")
            raise ScanError(pos, f"character reference {m.group(0)} is not an XML character")
        return chr(code)
    return _ENTITY.sub(repl, s)


def _is_xml_char(code: int) -> bool:
    """XML 1.0 ``Char``: tab, newline, carriage return and U+0020.. except surrogates, U+FFFE and U+FFFF."""
    return (code in (0x9, 0xA, 0xD) or 0x20 <= code <= 0xD7FF or 0xE000 <= code <= 0xFFFD
            or 0x10000 <= code <= 0x10FFFF)


#: control characters XML forbids even raw (as bytes: UTF-8 never uses them inside a multi-byte sequence)
_BAD_CONTROLS = bytes(b for b in range(0x20) if b not in (0x9, 0xA, 0xD))
_OTHER_BYTES = bytes(b for b in range(256) if b not in _BAD_CONTROLS)
_BAD_CHAR = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def bad_char_offset(text: str, raw: bytes | None = None) -> int:
    """Offset in ``text`` of the first character XML forbids (-1 if none).

    With ``raw`` (the UTF-8 bytes of ``text``) the common clean case is found with ``bytes.translate``,
    which runs at memory speed, instead of a regex walk over every character.
    """
    if raw is not None:
        if not raw.translate(None, _OTHER_BYTES) and b"\xef\xbf\xbe" not in raw and b"\xef\xbf\xbf" not in raw:
            return -1
    m = _BAD_CHAR.search(text)
    return m.start() if m else -1


_DECL = re.compile(
    r'<\?xml[ \t\r\n]+version[ \t\r\n]*=[ \t\r\n]*(["\'])1\.[0-9]*\1'
    r'(?:[ \t\r\n]+encoding[ \t\r\n]*=[ \t\r\n]*(["\'])[A-Za-z][A-Za-z0-9._\-]*\2)?'
    r'(?:[ \t\r\n]+standalone[ \t\r\n]*=[ \t\r\n]*(["\'])(?:yes|no)\3)?[ \t\r\n]*\?>')
_XML_PI = re.compile(r'<\?[xX][mM][lL](?=[ \t\r\n?])')


def check_xml_declarations(text: str, start: int) -> None:
    """An XML declaration only at ``start`` (after a BOM) and well-formed; no other ``<?xml`` PI.

    The general scanner skips processing instructions, so without this it would accept what every XML
    parser refuses ("XML declaration allowed only at the start of the document").
    """
    for m in _XML_PI.finditer(text):
        i = m.start()
        if i == start and text.startswith("<?xml", i):
            if _DECL.match(text, i) is None:
                raise ScanError(i, "malformed XML declaration (<?xml version=\"1.x\" [encoding=\"...\"] "
                                   "[standalone=\"yes|no\"]?>)")
            continue
        # inside a comment or CDATA section it is only text
        if text.rfind("<!--", 0, i) > text.rfind("-->", 0, i) or \
                text.rfind("<![CDATA[", 0, i) > text.rfind("]]>", 0, i):
            continue
        raise ScanError(i, "an XML declaration is allowed only at the very start of the document"
                        if i != start else "the name 'xml' of a processing instruction is reserved")


_ATTR_NAMES = re.compile(r'(' + _NAME + r')[ \t\r\n]*=')


def duplicate_attribute(attr_list: str) -> str | None:
    """The first attribute name that appears twice in an attribute list (values must not contain ``=``
    followed by nothing but a name, which holds for the fast-path forms that call this)."""
    names = _ATTR_NAMES.findall(attr_list)
    if len(names) == len(set(names)):
        return None  # a value holding "x=" can only add a name, never hide a repeated one: no duplicate
    seen: set[str] = set()
    for m in _ATTR_NAMES.finditer(re.sub(r'"[^"]*"|\'[^\']*\'', '""', attr_list)):
        if m.group(1) in seen:
            return m.group(1)
        seen.add(m.group(1))
    return None


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


_TAG_OPEN = re.compile(r'<(' + _NAME + r')')
_ATTR_HEAD = re.compile(r'\s+(' + _NAME + r')\s*=\s*(["\'])')
_TAG_CLOSE = re.compile(r'\s*(/?)>')


def _scan_start_tag(text: str, pos: int, end_limit: int) -> El | None:
    """The start tag at ``pos`` (``None`` if there is none), attribute values found with ``str.find``.

    A regex character class walks a value at a few dozen MB/s, ``str.find`` at GB/s: an IR with a
    50 MB attribute (an embedded tokenizer, say) must not take seconds to scan.
    """
    m = _TAG_OPEN.match(text, pos, end_limit)
    if m is None:
        return None
    el = El(m.group(1), pos)
    q = m.end()
    while True:
        c = _TAG_CLOSE.match(text, q, end_limit)
        if c is not None:
            el.tag_end = c.end()
            el.empty = bool(c.group(1))
            return el
        a = _ATTR_HEAD.match(text, q, end_limit)
        if a is None:
            return None
        name, quote = a.group(1), a.group(2)
        vs = a.end()
        ve = text.find(quote, vs, end_limit)
        if ve < 0 or text.find("<", vs, ve) >= 0:
            return None
        if name in el.attrs:
            raise ScanError(a.start(1), f"attribute {name!r} appears twice")
        el.attrs[name] = attr_unescape(text[vs:ve], vs)
        el.attr_spans[name] = (a.start(1), vs, ve)
        if quote != '"':
            el.quote[name] = quote
        q = ve + 1


def parse_element(text: str, pos: int, limit: int | None = None, depth: int = 1) -> El:
    """Parse the element starting at ``text[pos]`` (which must be ``<``) with offsets.

    Raises :class:`ScanError` on anything that is not well-formed XML
    (mismatched tags, bad attributes, undefined entities, DTD syntax).
    """
    end_limit = len(text) if limit is None else limit
    match = _TOKEN.match
    root = _scan_start_tag(text, pos, end_limit)
    if root is None:
        if text.startswith("<!DOCTYPE", pos) or text.startswith("<!ENTITY", pos):
            raise ScanError(pos, "DTDs/entities are not allowed (a DOCTYPE in an IR)")
        raise ScanError(pos, "expected an element")
    _check_depth(depth, pos)
    if root.empty:
        root.inner_start = root.inner_end = root.end = root.tag_end
        return root
    root.inner_start = root.tag_end
    stack = [root]
    p = root.tag_end
    while True:
        if text.startswith("<", p) and p + 1 < end_limit and text[p + 1] not in "!?/":
            el = _scan_start_tag(text, p, end_limit)
            if el is None:
                raise ScanError(p, "malformed markup")
            stack[-1].children.append(el)
            if el.empty:
                el.inner_start = el.inner_end = el.end = el.tag_end
            else:
                el.inner_start = el.tag_end
                stack.append(el)
                _check_depth(depth + len(stack) - 1, p)
            p = el.tag_end
            continue
        m = match(text, p, end_limit)
        if m is None:
            if p >= end_limit:
                raise ScanError(p, f"unexpected end of file inside <{stack[-1].tag}>")
            if text.startswith("<!DOCTYPE", p) or text.startswith("<!ENTITY", p):
                raise ScanError(p, "DTDs/entities are not allowed (a DOCTYPE in an IR)")
            raise ScanError(p, "malformed markup")
        kind = m.lastgroup
        top = stack[-1]
        if kind == "x":  # a start tag: taken by _scan_start_tag above, unless it was malformed
            raise ScanError(p, "malformed markup")
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
    el = _scan_start_tag(text, pos, len(text))
    if el is None:
        if text.startswith("<!DOCTYPE", pos) or text.startswith("<!ENTITY", pos):
            raise ScanError(pos, "DTDs/entities are not allowed (a DOCTYPE in an IR)")
        raise ScanError(pos, "expected an element")
    el.inner_start = el.tag_end
    if el.empty:
        el.inner_end = el.end = el.tag_end
    return el


#: libxml2's default nesting limit. Deeper IRs are refused (lint too): no real IR comes near it, and the
#: recursive parts of loading, saving and describing (bodies, rt_info) stay far from Python's recursion limit
MAX_DEPTH = 256


def _check_depth(depth: int, pos: int) -> None:
    if depth > MAX_DEPTH:
        raise ScanError(pos, f"elements nested deeper than {MAX_DEPTH} levels")


def end_tag_at(text: str, pos: int) -> tuple[str, int] | None:
    """``(name, end)`` if an end tag starts at ``pos``."""
    m = _TOKEN.match(text, pos)
    if m is not None and m.lastgroup == "e":
        return m.group("e"), m.end()
    return None
