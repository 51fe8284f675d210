"""The ``.bin`` of an IR, and where a Const's bytes lie in it: no numpy here.

Reading, writing and checking an IR only need offsets, sizes and bytes; decoding values (numpy) is
:mod:`.weights`, imported when something asks for a value. ``Weights``, ``ConstInfo`` and
``const_info`` are re-exported there.
"""

from __future__ import annotations

import mmap
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...errors import ModelfileError
from ...graph import Node
from .keys import IR_DATA
from .names import parse_shape

if TYPE_CHECKING:
    import numpy as np

    from .reader import IRDocument

__all__ = ["COMPACT_AT", "ConstInfo", "Weights", "bin_stays", "const_info", "const_raw", "const_span"]


# ---------------------------------------------------------------------------------------------
# the .bin file
# ---------------------------------------------------------------------------------------------


class Weights:
    """The ``.bin`` of a loaded IR: an open file descriptor and a lazy read-only map.

    The descriptor is opened at load so that the data stays the data the XML
    was read with, even after the file is replaced on disk (by an in-place
    save, which renames a new file over it).
    """

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.fd: int | None = None
        self.size: int | None = None
        self._map: mmap.mmap | None = None
        self._array: np.ndarray | None = None
        if path is not None:
            try:
                self.fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
                self.size = os.fstat(self.fd).st_size
            except OSError:
                self.fd = None
                self.size = None

    @property
    def exists(self) -> bool:
        """Whether a ``.bin`` was found at load."""
        return self.fd is not None

    def array(self) -> np.ndarray:
        """The whole file as a read-only uint8 array backed by ``mmap`` (nothing is read yet)."""
        if self._array is None:
            import numpy as np

            if self.fd is None:
                raise FileNotFoundError(str(self.path))
            if not self.size:
                self._array = np.zeros(0, np.uint8)
            else:
                self._map = mmap.mmap(self.fd, 0, access=mmap.ACCESS_READ)
                self._array = np.frombuffer(self._map, np.uint8)
        return self._array

    def pread(self, offset: int, size: int) -> bytes:
        """Read bytes with ``os.pread`` (no mapping: keeps RSS flat when streaming big blobs)."""
        if self.fd is None:
            raise FileNotFoundError(str(self.path))
        chunks = []
        while size > 0:
            b = os.pread(self.fd, min(size, 1 << 24), offset)
            if not b:
                break
            chunks.append(b)
            offset += len(b)
            size -= len(b)
        return b"".join(chunks)

    def __deepcopy__(self, memo: dict[int, Any]) -> "Weights":
        # read-only and tied to an open file: copies of a model share it
        return self

    def __copy__(self) -> "Weights":
        return self

    def close(self) -> None:
        """Release the map and the descriptor."""
        self._array = None
        if self._map is not None:
            try:
                self._map.close()
            except BufferError:  # someone still holds a view; let GC take it
                pass
            self._map = None
        if self.fd is not None:
            try:
                os.close(self.fd)
            except OSError:
                pass
            self.fd = None

    def __del__(self) -> None:
        try:
            if self.fd is not None:
                os.close(self.fd)
        except Exception:
            pass


# ---------------------------------------------------------------------------------------------
# node-level API
# ---------------------------------------------------------------------------------------------


class ConstInfo(tuple):
    """``(offset, size, element_type, shape)`` of a Const node."""

    __slots__ = ()

    @property
    def offset(self) -> int:
        return self[0]

    @property
    def size(self) -> int:
        return self[1]

    @property
    def element_type(self) -> str:
        return self[2]

    @property
    def shape(self) -> tuple[int, ...]:
        return self[3]


def _err(node: Node, message: str) -> ModelfileError:
    src = node.source
    doc = getattr(src, "doc", None)
    pos = node.pos
    return ModelfileError(message, file=str(getattr(doc, "path", "") or (pos.file if pos else "")),
                          line=pos.line if pos else 0, column=pos.column if pos else 0)


def const_info(node: Node) -> ConstInfo:
    """Offset, size, element type and static shape of a ``Const`` node (from its attributes)."""
    if node.op_type.lower() not in ("const", "constant"):
        raise _err(node, f"layer {node.name!r} is a {node.op_type}, not a Const")
    a = node.attrs
    try:
        et = a["element_type"]
        shape = parse_shape(a.get("shape", ""))
        offset = int(a.get("offset", "0"))
        size = int(a.get("size", "0"))
    except KeyError as e:
        raise _err(node, f"Const {node.name!r} has no {e.args[0]!r} attribute") from None
    except ValueError as e:
        raise _err(node, f"Const {node.name!r}: bad attribute: {e}") from None
    if shape is None or any(not isinstance(d, int) or d < 0 for d in shape):
        raise _err(node, f"Const {node.name!r} has a non-static shape {a.get('shape')!r}")
    return ConstInfo((offset, size, et, shape))


def _doc_of(node: Node) -> "IRDocument | None":
    return getattr(node.source, "doc", None)


def const_span(node: Node) -> tuple[Weights, ConstInfo]:
    """The ``.bin`` a Const without new data reads and where in it; raises when the file or the range is
    missing (the one place those errors are worded)."""
    info = const_info(node)
    doc = _doc_of(node)
    weights: Weights | None = doc.weights if doc is not None else None
    if weights is None or not weights.exists:
        where = weights.path.name if weights is not None and weights.path else "the .bin"
        raise _err(node, f"Const {node.name!r} needs weights but {where} does not exist")
    if info.offset < 0 or info.size < 0 or info.offset + info.size > (weights.size or 0):
        raise _err(node, f"Const {node.name!r}: bytes {info.offset}..{info.offset + info.size} lie beyond "
                         f"the end of {weights.path.name if weights.path else '.bin'} ({weights.size} bytes)")
    return weights, info


def const_raw(node: Node) -> bytes:
    """A Const's packed bytes as ``bytes`` (new data if set, else read from the ``.bin``), without numpy."""
    data = node.meta.get(IR_DATA)
    if data is not None:
        return bytes(data)
    weights, info = const_span(node)
    return weights.pread(info.offset, info.size)


#: a save with ``weights="auto"`` compacts the .bin once the bytes no Const uses reach 1/COMPACT_AT of it
COMPACT_AT = 16


def bin_stays(live: "list[Node]", doc: "IRDocument | None") -> int | None:
    """Whether a save (``weights="auto"``) leaves ``doc``'s .bin as it is with ``live`` the Consts it writes:
    the bytes of it that none of them uses when it does (0 also when none was dropped), else None.

    It stays while no live Const has new data or reads another file, and the Consts dropped since the
    read leave under 1/COMPACT_AT of it unused (cut-state's initialisers: rewriting would re-render every
    later Const's offset and copy the whole .bin, gigabytes for an LLM, to save a few bytes).
    """
    for n in live:
        if (n._meta and n._meta.get(IR_DATA) is not None) or getattr(n.source, "doc", None) is not doc:
            return None
    kept = set(live)
    if doc is None or all(n in kept for n in doc.consts):
        return 0
    dead = _unused_bytes(live, doc.weights)
    return dead if dead is not None and dead * COMPACT_AT <= (doc.weights.size or 0) else None


def _unused_bytes(consts: "list[Node]", weights: Weights) -> int | None:
    """Bytes of ``weights`` that none of ``consts`` (all reading it) covers; None when an offset or size does
    not parse (a rewrite reports it)."""
    spans: list[tuple[int, int]] = []
    for n in consts:
        a = n.attrs
        try:
            off, size = int(a.get("offset", "0")), int(a.get("size", "0"))
        except ValueError:
            return None
        if size > 0:
            spans.append((off, off + size))
    spans.sort()
    covered = 0
    end = 0
    for a0, b0 in spans:
        if b0 > end:
            covered += b0 - max(a0, end)
            end = b0
    return max((weights.size or 0) - covered, 0)
