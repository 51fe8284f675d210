"""Seeded, structure-aware mutations of real ncnn params, ncnn .param.bin files and OpenVINO IRs.

Pure text/bytes work (no modelfile import), so the same cases can be run against any version of
modelfile (``tools/fuzz_measure.py`` compares two checkouts). Every mutation is a function
``(rng, data) -> bytes | None`` in a category; :func:`cases` turns seed files into a deterministic list
of :class:`Case` (the same list on every run and machine: the seed of case ``k`` of file ``f`` is a CRC
of both).
"""

from __future__ import annotations

import random
import re
import shutil
import struct
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

__all__ = ["CATEGORIES", "Case", "cases", "seed_files"]

Mutator = Callable[[random.Random, bytes], "bytes | None"]


@dataclass(frozen=True)
class Case:
    """One mutated file: ``kind`` is ``ncnn`` / ``ncnn-bin`` / ``ir``; ``name`` is unique and stable."""

    name: str
    kind: str
    category: str
    seed_file: Path
    data: bytes
    #: the .bin that goes with the file (IR with weights), copied beside it
    weights: Path | None = None

    @property
    def suffix(self) -> str:
        return {"ncnn": ".param", "ncnn-bin": ".param.bin", "ir": ".xml"}[self.kind]

    def write_to(self, folder: Path) -> Path:
        """The mutated file in ``folder`` (created), with its weights beside it."""
        folder.mkdir(parents=True, exist_ok=True)
        p = folder / f"m{self.suffix}"
        p.write_bytes(self.data)
        if self.weights is not None:
            shutil.copyfile(self.weights, p.with_suffix(".bin") if self.kind == "ir" else folder / "m.bin")
        return p


# ---------------------------------------------------------------------------------------------
# ncnn text
# ---------------------------------------------------------------------------------------------

_INTERESTING = ["-1", "0", "-2", "-233", "99", "2147483647", "-2147483648", "1.5", "-1e999", "abc", "",
                "2147483648", "1e40", "7", "3"]


def _layer_lines(text: str) -> list[int]:
    lines = text.split("\n")
    return [i for i, ln in enumerate(lines) if i >= 2 and len(ln.split()) >= 4]


def _edit_line(data: bytes, rng: random.Random, fn: Callable[[list[str]], list[str] | None]) -> bytes | None:
    text = data.decode("utf-8", "replace")
    lines = text.split("\n")
    idx = _layer_lines(text)
    if not idx:
        return None
    i = rng.choice(idx)
    toks = lines[i].split()
    new = fn(toks)
    if new is None:
        return None
    lines[i] = " ".join(new)
    return "\n".join(lines).encode("utf-8")


def _param_span(toks: list[str]) -> int:
    try:
        return 4 + int(toks[2]) + int(toks[3])
    except (ValueError, IndexError):
        return len(toks)


def n_drop_param(rng: random.Random, data: bytes) -> bytes | None:
    def fn(toks: list[str]) -> list[str] | None:
        start = _param_span(toks)
        if len(toks) <= start:
            return None
        del toks[rng.randrange(start, len(toks))]
        return toks
    return _edit_line(data, rng, fn)


def n_set_param(rng: random.Random, data: bytes) -> bytes | None:
    def fn(toks: list[str]) -> list[str] | None:
        start = _param_span(toks)
        value = rng.choice(_INTERESTING)
        if len(toks) > start and rng.random() < 0.8:
            k = rng.randrange(start, len(toks))
            key = toks[k].split("=")[0]
        else:
            key = str(rng.randrange(0, 24))
            k = len(toks)
            toks.append("")
        toks[k] = f"{key}={value}"
        return toks
    return _edit_line(data, rng, fn)


def n_bad_key(rng: random.Random, data: bytes) -> bytes | None:
    def fn(toks: list[str]) -> list[str]:
        toks.append(rng.choice(["40=1", "-1=2", "-23340=1,2", "-23300=3,1,2", "5=1,2,", "31=1.5", "30=4",
                                "-23330=3,1,2,3", "1=1\t2=3"]))
        return toks
    return _edit_line(data, rng, fn)


def n_counts(rng: random.Random, data: bytes) -> bytes | None:
    text = data.decode("utf-8", "replace")
    lines = text.split("\n")
    if len(lines) < 2 or len(lines[1].split()) != 2:
        return None
    a, b = (int(x) if x.lstrip("-").isdigit() else 1 for x in lines[1].split())
    choice = rng.randrange(6)
    if choice == 0:
        a += rng.choice([-1, 1])
    elif choice == 1:
        b += rng.choice([-1, 1, 5])
    elif choice == 2:
        b = rng.choice([0, -1, 1000001, 2147483647])
    elif choice == 3:
        a = rng.choice([0, 1000001])
    elif choice == 4:
        lines[1] = lines[1] + " 3"
        return "\n".join(lines).encode()
    else:
        lines[1] = "x y"
        return "\n".join(lines).encode()
    lines[1] = f"{a} {b}"
    return "\n".join(lines).encode()


def n_blob_count(rng: random.Random, data: bytes) -> bytes | None:
    """Change a layer's bottom/top count and names together (a one-input layer given two...)."""
    def fn(toks: list[str]) -> list[str] | None:
        try:
            nb, nt = int(toks[2]), int(toks[3])
        except (ValueError, IndexError):
            return None
        names = toks[4:4 + nb + nt]
        params = toks[4 + nb + nt:]
        r = rng.randrange(4)
        bottoms, tops = names[:nb], names[nb:]
        if r == 0 and bottoms:
            bottoms = bottoms + [bottoms[0]]
        elif r == 1:
            tops = tops + [f"fz_extra_{rng.randrange(1000)}"]
        elif r == 2 and bottoms:
            bottoms = bottoms[:-1]
        elif r == 3 and len(tops) > 1:
            tops = tops[:-1]
        else:
            return None
        return [toks[0], toks[1], str(len(bottoms)), str(len(tops)), *bottoms, *tops, *params]
    return _edit_line(data, rng, fn)


def n_wiring(rng: random.Random, data: bytes) -> bytes | None:
    """Duplicate a top name, rename a bottom to something unproduced, or swap two lines."""
    text = data.decode("utf-8", "replace")
    lines = text.split("\n")
    idx = _layer_lines(text)
    if len(idx) < 2:
        return None
    r = rng.randrange(3)
    i, j = sorted(rng.sample(idx, 2))
    ti, tj = lines[i].split(), lines[j].split()
    si, sj = _param_span(ti), _param_span(tj)
    try:
        nbi, nbj = int(ti[2]), int(tj[2])
    except ValueError:
        return None
    if r == 0 and si > 4 + nbi and sj > 4 + nbj:  # a later layer writes an earlier layer's top
        tj[4 + nbj] = ti[4 + nbi]
        lines[j] = " ".join(tj)
    elif r == 1 and nbj:
        tj[4] = f"fz_nowhere_{rng.randrange(100)}"
        lines[j] = " ".join(tj)
    else:
        lines[i], lines[j] = lines[j], lines[i]
    return "\n".join(lines).encode()


def n_type(rng: random.Random, data: bytes) -> bytes | None:
    def fn(toks: list[str]) -> list[str]:
        toks[0] = rng.choice(["FzCustomOp", "pnnx.Expression", "aten::add", "Convolution", "InnerProduct", "Gemm",
                              "Permute", "Reshape", "BatchNorm", "Split", "Concat", "ReLU", "Softmax", "Reduction",
                              "ArgMax"])
        return toks
    return _edit_line(data, rng, fn)


def n_shape_hints(rng: random.Random, data: bytes) -> bytes | None:
    def fn(toks: list[str]) -> list[str]:
        try:
            nt = int(toks[3])
        except (ValueError, IndexError):
            nt = 1
        n = max(nt, 1) * rng.choice([3, 4, 5, 6]) + rng.choice([0, 0, 1])
        toks = [t for t in toks if not t.startswith("-23330=")]
        toks.append("-23330=" + ",".join([str(n)] + [str(rng.randrange(1, 9)) for _ in range(n)]))
        return toks
    return _edit_line(data, rng, fn)


def n_long_line(rng: random.Random, data: bytes) -> bytes | None:
    """A 100,000-value array: must stay fast (it once took 9.5 s to lint)."""
    def fn(toks: list[str]) -> list[str]:
        n = 100_000
        toks.append(f"-23309={n}," + ",".join(f"{rng.randrange(100)}.5" for _ in range(n)))
        return toks
    return _edit_line(data, rng, fn)


def n_bytes(rng: random.Random, data: bytes) -> bytes | None:
    return _bytes(rng, data, b" \n=,-0123456789.\t\"\x00\xff\xe9")


def _bytes(rng: random.Random, data: bytes, alphabet: bytes) -> bytes:
    b = bytearray(data)
    r = rng.randrange(5)
    if r == 0 and b:
        del b[rng.randrange(len(b)):]
    elif r == 1:
        pos = rng.randrange(len(b) + 1)
        b[pos:pos] = bytes(rng.choice(alphabet) for _ in range(rng.randrange(1, 4)))
    elif r == 2 and b:
        pos = rng.randrange(len(b))
        del b[pos:pos + rng.randrange(1, 16)]
    elif r == 3:
        lines = bytes(b).split(b"\n")
        k = rng.randrange(len(lines))
        lines.insert(k, lines[k])
        return b"\n".join(lines)
    elif b:
        b[rng.randrange(len(b))] = rng.choice(alphabet)
    return bytes(b)


# ---------------------------------------------------------------------------------------------
# ncnn .param.bin
# ---------------------------------------------------------------------------------------------

def b_word(rng: random.Random, data: bytes) -> bytes | None:
    n = len(data) // 4
    if n < 4:
        return None
    words = list(struct.unpack(f"<{n}i", data[: n * 4]))
    k = rng.randrange(1, n)
    words[k] = rng.choice([0, -1, 1, 2, 3, 0x7FFFFFFF, -233, -23300, -23400, 1000001, words[k] + 1, words[k] - 1])
    return struct.pack(f"<{n}i", *words)


def b_header(rng: random.Random, data: bytes) -> bytes | None:
    if len(data) < 12:
        return None
    words = list(struct.unpack("<3i", data[:12]))
    words[rng.choice([1, 2])] = rng.choice([0, -1, 0x7FFFFFFF, 1000000, 1000001, words[1] + 1, words[2] + 1])
    return struct.pack("<3i", *words) + data[12:]


def b_dup_blob(rng: random.Random, data: bytes) -> bytes | None:
    """Make a layer's top index equal to an earlier layer's top (two writers of one blob)."""
    n = len(data) // 4
    words = list(struct.unpack(f"<{n}i", data[: n * 4]))
    pos, tops = 3, []
    try:
        for _ in range(words[1]):
            nb, nt = words[pos + 1], words[pos + 2]
            tops.append(list(range(pos + 3 + nb, pos + 3 + nb + nt)))
            pos += 3 + nb + nt
            while words[pos] != -233:
                key = words[pos]
                if key <= -23300:
                    cnt = words[pos + 1]
                    pos += 2 + (cnt if key > -23400 else (cnt + 3) // 4)
                else:
                    pos += 2
            pos += 1
    except IndexError:
        return None
    cands = [(i, j) for i in range(len(tops)) for j in range(i + 1, len(tops)) if tops[i] and tops[j]]
    if not cands:
        return None
    i, j = rng.choice(cands)
    words[tops[j][0]] = words[tops[i][0]]
    return struct.pack(f"<{n}i", *words)


def b_bytes(rng: random.Random, data: bytes) -> bytes | None:
    return _bytes(rng, data, bytes(range(256)))


# ---------------------------------------------------------------------------------------------
# OpenVINO IR
# ---------------------------------------------------------------------------------------------

def _sub_one(rng: random.Random, data: bytes, pattern: str, repl: Callable[[re.Match[str]], str]) -> bytes | None:
    text = data.decode("utf-8", "replace")
    hits = list(re.finditer(pattern, text))
    if not hits:
        return None
    m = rng.choice(hits)
    return (text[: m.start()] + repl(m) + text[m.end():]).encode("utf-8")


def i_shape(rng: random.Random, data: bytes) -> bytes | None:
    bad = rng.choice(["a,b", "1,,2", "1,-2", "?,x", "1..0", "[1", "", "...", "-1"])
    return _sub_one(rng, data, r'\bshape="[^"]*"', lambda m: f'shape="{bad}"')


def i_dim(rng: random.Random, data: bytes) -> bytes | None:
    bad = rng.choice(["-2", "?", "x", "", "1.5", "-1", "99999999999999999999", " 3 "])
    return _sub_one(rng, data, r"<dim>[^<]*</dim>", lambda m: f"<dim>{bad}</dim>")


def i_element_type(rng: random.Random, data: bytes) -> bytes | None:
    if rng.random() < 0.5:
        bad = rng.choice(["f99", "F32", "float", "", "u1", "i4", "string"])
        return _sub_one(rng, data, r'\belement_type="[^"]*"', lambda m: f'element_type="{bad}"')
    bad = rng.choice(["FP99", "fp32", "", "I64", "U8", "XYZ"])
    return _sub_one(rng, data, r'\bprecision="[^"]*"', lambda m: f'precision="{bad}"')


def i_drop_attr(rng: random.Random, data: bytes) -> bytes | None:
    attr = rng.choice(["version", "offset", "size", "shape", "element_type", "id", "type", "name", "from-port",
                       "to-layer"])
    return _sub_one(rng, data, rf'\s{attr}="[^"]*"', lambda m: "")


def i_empty_attr(rng: random.Random, data: bytes) -> bytes | None:
    attr = rng.choice(["type", "version", "id", "names", "offset"])
    return _sub_one(rng, data, rf'\b{attr}="[^"]*"', lambda m: f'{attr}=""')


def i_edges(rng: random.Random, data: bytes) -> bytes | None:
    text = data.decode("utf-8", "replace")
    edges = list(re.finditer(r'<edge from-layer="(\d+)" from-port="(\d+)" to-layer="(\d+)" to-port="(\d+)"\s*/>',
                             text))
    if not edges:
        return None
    m = rng.choice(edges)
    fl, fp, tl, tp = m.groups()
    r = rng.randrange(6)
    if r == 0:    # self-loop
        new = f'<edge from-layer="{tl}" from-port="{fp}" to-layer="{tl}" to-port="{tp}"/>'
    elif r == 1:  # backwards: a cycle when the target feeds the source
        new = f'<edge from-layer="{tl}" from-port="{fp}" to-layer="{fl}" to-port="{tp}"/>'
    elif r == 2:  # duplicate
        new = m.group(0) + m.group(0)
    elif r == 3:  # drop
        new = ""
    elif r == 4:  # missing layer
        new = f'<edge from-layer="{int(fl) + 9999}" from-port="{fp}" to-layer="{tl}" to-port="{tp}"/>'
    else:         # missing port
        new = f'<edge from-layer="{fl}" from-port="{int(fp) + 7}" to-layer="{tl}" to-port="{tp}"/>'
    return (text[: m.start()] + new + text[m.end():]).encode("utf-8")


def i_cycle(rng: random.Random, data: bytes) -> bytes | None:
    """Point an edge's source at a layer downstream of its target (a real cycle, ports kept valid)."""
    text = data.decode("utf-8", "replace")
    edges = [m for m in re.finditer(r'<edge from-layer="(\d+)" from-port="(\d+)" to-layer="(\d+)" to-port="(\d+)"',
                                    text)]
    if len(edges) < 2:
        return None
    by_src: dict[str, list[re.Match[str]]] = {}
    for e in edges:
        by_src.setdefault(e.group(1), []).append(e)
    m = rng.choice(edges)
    # an edge leaving the target of m: redirect m to come from that edge's producer side
    nxt = by_src.get(m.group(3))
    if not nxt:
        return None
    later = rng.choice(nxt)
    new = f'<edge from-layer="{later.group(3)}" from-port="{later.group(4)}" to-layer="{m.group(3)}" ' \
          f'to-port="{m.group(4)}"'
    return (text[: m.start()] + new + text[m.end():]).encode("utf-8")


def i_ports(rng: random.Random, data: bytes) -> bytes | None:
    """Give a port the id of its sibling (duplicate port ids), or drop a port's id."""
    text = data.decode("utf-8", "replace")
    hits = list(re.finditer(r'(<(input|output)>\s*<port id=")(\d+)("[^<]*(?:<dim>[^<]*</dim>\s*)*</port>\s*<port id=")'
                            r'(\d+)"', text))
    if not hits:
        return None
    m = rng.choice(hits)
    return (text[: m.start(5)] + m.group(3) + text[m.end(5):]).encode("utf-8")


def i_body(rng: random.Random, data: bytes) -> bytes | None:
    text = data.decode("utf-8", "replace")
    tag = rng.choice(["body", "then_body", "else_body", "port_map", "back_edges"])
    i = text.find(f"<{tag}>")
    j = text.find(f"</{tag}>", i)
    if i < 0 or j < 0:
        return None
    return (text[:i] + text[j + len(tag) + 3:]).encode("utf-8")


def i_const_size(rng: random.Random, data: bytes) -> bytes | None:
    def repl(m: re.Match[str]) -> str:
        size = int(m.group(1))
        return f'size="{rng.choice([0, max(size - 1, 0), size // 2, size + 4, size * 1000])}"'
    return _sub_one(rng, data, r'\bsize="(\d+)"', repl)


def i_xml(rng: random.Random, data: bytes) -> bytes | None:
    """Well-formedness: what lint and the reader must agree on."""
    text = data.decode("utf-8", "replace")
    r = rng.randrange(9)
    if r == 0:    # duplicate attribute
        return _sub_one(rng, data, r'<layer id="(\d+)"', lambda m: f'<layer id="{m.group(1)}" id="{m.group(1)}"')
    if r == 1:    # &#0; and other forbidden references
        ref = rng.choice(["&#0;", "&#1;", "&#xFFFE;", "&#x110000;", "&bogus;", "&#9;"])
        return _sub_one(rng, data, r'name="', lambda m: f'name="{ref}')
    if r == 2:    # misplaced or bad XML declaration
        decl = rng.choice(['<?xml version="1.0"?>', '<?xml version="2.0"?>', '<?xml encoding="utf-8"?>',
                           '<?XML version="1.0"?>', '<?xml version="1.0" standalone="maybe"?>'])
        body = re.sub(r"^\s*<\?xml[^>]*\?>", "", text)
        return ((rng.choice(["\n", " ", "<!-- c -->", ""]) + decl + body) if rng.random() < 0.5
                else body.replace("<layers>", "<layers>" + decl, 1)).encode("utf-8")
    if r == 3:    # encodings
        enc = rng.choice(["latin-1", "ISO-8859-1", "utf-16", "x-unknown", "ascii"])
        body = re.sub(r"^\s*<\?xml[^>]*\?>", "", text)
        return f'<?xml version="1.0" encoding="{enc}"?>{body}'.encode("latin-1", "replace")
    if r == 4:    # deep nesting
        depth = rng.choice([100, 300, 1000, 3000])
        return text.replace("</net>", "<rt_info>" + "<a>" * depth + "</a>" * depth + "</rt_info></net>", 1)\
            .encode("utf-8")
    if r == 5:    # raw forbidden characters / non-UTF-8 bytes
        b = bytearray(data)
        pos = rng.randrange(len(b))
        b[pos:pos] = rng.choice([b"\x01", b"\x0b", b"\xff", b"\xc3", b"\x00"])
        return bytes(b)
    if r == 6:    # truncation
        return data[: rng.randrange(len(data))]
    if r == 7:    # a DOCTYPE / entity
        return text.replace("<net", '<!DOCTYPE net [<!ENTITY x "y">]><net', 1).encode("utf-8")
    return _bytes(rng, data, b"<>/\"'=&;\n ")


def i_big_attr(rng: random.Random, data: bytes) -> bytes | None:
    """A 50 MB attribute: info once took 5-10 s on it."""
    big = "v" * (50 << 20)
    return data.decode("utf-8", "replace").replace(
        "</net>", f'<rt_info><framework><blob value="{big}"/></framework></rt_info></net>', 1).encode("utf-8")


#: category -> (kinds it applies to, mutator, relative weight)
CATEGORIES: dict[str, tuple[tuple[str, ...], Mutator, int]] = {
    "ncnn-drop-param": (("ncnn",), n_drop_param, 6),
    "ncnn-set-param": (("ncnn",), n_set_param, 10),
    "ncnn-bad-key": (("ncnn",), n_bad_key, 3),
    "ncnn-counts": (("ncnn",), n_counts, 3),
    "ncnn-blob-count": (("ncnn",), n_blob_count, 4),
    "ncnn-wiring": (("ncnn",), n_wiring, 3),
    "ncnn-type": (("ncnn",), n_type, 3),
    "ncnn-shape-hints": (("ncnn",), n_shape_hints, 2),
    "ncnn-bytes": (("ncnn",), n_bytes, 4),
    "ncnn-long-line": (("ncnn",), n_long_line, 0),  # a fixed few, see cases()
    "bin-word": (("ncnn-bin",), b_word, 6),
    "bin-header": (("ncnn-bin",), b_header, 2),
    "bin-dup-blob": (("ncnn-bin",), b_dup_blob, 2),
    "bin-bytes": (("ncnn-bin",), b_bytes, 2),
    "ir-shape": (("ir",), i_shape, 3),
    "ir-dim": (("ir",), i_dim, 3),
    "ir-element-type": (("ir",), i_element_type, 3),
    "ir-drop-attr": (("ir",), i_drop_attr, 4),
    "ir-empty-attr": (("ir",), i_empty_attr, 2),
    "ir-edges": (("ir",), i_edges, 4),
    "ir-cycle": (("ir",), i_cycle, 2),
    "ir-ports": (("ir",), i_ports, 2),
    "ir-body": (("ir",), i_body, 2),
    "ir-const-size": (("ir",), i_const_size, 2),
    "ir-xml": (("ir",), i_xml, 6),
    "ir-big-attr": (("ir",), i_big_attr, 0),  # a fixed few, see cases()
}


def seed_files(root: Path, corpus: Path, max_bytes: int = 40_000) -> list[tuple[str, Path, Path | None]]:
    """``(kind, file, weights)`` of the fixtures and the corpus files small enough to mutate quickly."""
    out: list[tuple[str, Path, Path | None]] = []
    pools = [root / "fixtures"] + ([corpus] if corpus.is_dir() else [])
    for pool in pools:
        for p in sorted(pool.rglob("*")):
            if not p.is_file() or p.stat().st_size > max_bytes:
                continue
            name = p.name.lower()
            if name.endswith(".param.bin"):
                out.append(("ncnn-bin", p, None))
            elif name.endswith(".param") and not name.endswith(".pnnx.param"):
                out.append(("ncnn", p, None))
            elif name.endswith(".xml") and b"<net" in p.read_bytes()[:4096]:
                w = p.with_suffix(".bin")
                out.append(("ir", p, w if w.is_file() else None))
    return out


def cases(root: Path, corpus: Path, per_file: int = 40, *, big: bool = True) -> list[Case]:
    """The deterministic case list: ``per_file`` mutations of every seed file, plus a few long-line and
    big-attribute cases (``big``)."""
    out: list[Case] = []
    for kind, path, weights in seed_files(root, corpus):
        data = path.read_bytes()
        cats = [(c, m, w) for c, (kinds, m, w) in CATEGORIES.items() if kind in kinds and w > 0]
        names = [c for c, _m, _w in cats]
        weights_ = [w for _c, _m, w in cats]
        made = 0
        k = 0
        while made < per_file and k < per_file * 4:
            seed = zlib.crc32(f"{path.name}:{k}".encode())
            rng = random.Random(seed)
            k += 1
            cat = rng.choices(names, weights_)[0]
            mutated = CATEGORIES[cat][1](rng, data)
            if mutated is None or mutated == data:
                continue
            out.append(Case(f"{path.parent.name}/{path.stem}.{k}.{cat}", kind, cat, path, mutated, weights))
            made += 1
    if big:
        for kind, path, weights in seed_files(root, corpus):
            for cat, (kinds, m, _w) in CATEGORIES.items():
                if _w == 0 and kind in kinds and path.name in ("block.ncnn.param", "joint.xml"):
                    rng = random.Random(zlib.crc32(f"{path.name}:{cat}".encode()))
                    mutated = m(rng, path.read_bytes())
                    if mutated is not None:
                        out.append(Case(f"{path.parent.name}/{path.stem}.{cat}", kind, cat, path, mutated, weights))
    return out


def iter_categories(cs: list[Case]) -> Iterator[tuple[str, int]]:
    counts: dict[str, int] = {}
    for c in cs:
        counts[c.category] = counts.get(c.category, 0) + 1
    yield from sorted(counts.items())
