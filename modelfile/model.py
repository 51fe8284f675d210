"""The :class:`Model` wrapper: a graph plus the file format that reads and writes it."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from .errors import ModelfileError
from .graph import Graph, Node, Value

__all__ = ["FormatHandler", "Model", "SaveResult", "atomic_write", "detect_format", "load"]


class FormatHandler(Protocol):
    """What a format package (``modelfile.formats.<name>``) provides."""

    name: str

    def read(self, path: Path, **options: Any) -> "Model": ...

    def write(self, model: "Model", path: Path, **options: Any) -> "SaveResult": ...


@dataclass
class SaveResult:
    """What :meth:`Model.save` wrote."""

    path: Path
    files: list[Path] = field(default_factory=list)
    #: "rewritten", "copied", "linked", "unchanged" or "none" for the weights file
    weights: str = "none"
    notes: list[str] = field(default_factory=list)


class Model:
    """A loaded model file: ``graph`` plus format details needed to write it back.

    Create with :func:`modelfile.load`. ``format`` is ``"ncnn"`` or
    ``"openvino"``; ``path`` is the file it came from.
    """

    def __init__(self, graph: Graph, fmt: str, path: Path | None, handler: FormatHandler) -> None:
        self.graph = graph
        self.format = fmt
        self.path = path
        self.handler = handler
        #: format-specific state (e.g. the ncnn text document, the IR xml tree)
        self.meta: dict[str, Any] = {}

    # -- convenience API -------------------------------------------------
    @property
    def nodes(self) -> list[Node]:
        """The graph's nodes in file order."""
        return self.graph.nodes

    @property
    def inputs(self) -> list[Value]:
        """Graph inputs."""
        return self.graph.inputs

    @property
    def outputs(self) -> list[Value]:
        """Graph outputs (ncnn: blobs produced and never consumed)."""
        return self.graph.outputs if self.graph.outputs else self.graph.dangling_values()

    def find_node(self, name: str) -> Node | None:
        """First node with this name."""
        return self.graph.find_node(name)

    def save(self, path: str | os.PathLike[str] | None = None, **options: Any) -> SaveResult:
        """Write the model to ``path`` (default: where it was read from), atomically."""
        target = Path(path) if path is not None else self.path
        if target is None:
            raise ModelfileError("no output path given")
        return self.handler.write(self, Path(target), **options)

    def to_text(self) -> str:
        """The serialized main file as text (ncnn .param / IR .xml)."""
        fn: Callable[[Model], str] | None = getattr(self.handler, "to_text", None)
        if fn is None:
            raise ModelfileError(f"{self.format} has no text form")
        return fn(self)

    def __repr__(self) -> str:
        return f"Model({self.format}, {str(self.path)!r}, {len(self.graph.nodes)} nodes)"


def detect_format(path: Path) -> str:
    """Guess the format from the file's first bytes: ``ncnn``, ``ncnn-bin`` or ``openvino``."""
    try:
        with open(path, "rb") as f:
            head = f.read(512)
    except OSError as e:
        raise ModelfileError(f"cannot read: {e.strerror}", file=str(path)) from None
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if head[:4] == b"\xdd\x85\x76\x00":
        return "ncnn-bin"
    if stripped.startswith(b"<"):
        return "openvino"
    if path.suffix.lower() == ".xml":
        return "openvino"
    return "ncnn"


def _handler(fmt: str) -> FormatHandler:
    if fmt in ("ncnn", "ncnn-bin"):
        from .formats import ncnn

        return ncnn  # type: ignore[return-value]
    if fmt == "openvino":
        from .formats import openvino

        return openvino  # type: ignore[return-value]
    raise ModelfileError(f"unknown format {fmt!r}")


def load(path: str | os.PathLike[str], **options: Any) -> Model:
    """Read an ncnn ``.param`` (text or binary) or OpenVINO ``.xml`` into a :class:`Model`."""
    p = Path(path)
    if not p.exists():
        raise ModelfileError("no such file", file=str(p))
    if p.is_dir():
        raise ModelfileError("is a directory, not a model file", file=str(p))
    return _handler(detect_format(p)).read(p, **options)


@contextmanager
def atomic_write(path: Path, mode: str = "wb") -> Iterator[Any]:
    """Write to a temp file next to ``path`` and rename it over ``path`` only on success.

    The original file is never left half-written: on any error the temp file is
    removed and ``path`` is untouched.
    """
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, mode) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        if path.exists():
            try:
                os.chmod(tmp, path.stat().st_mode & 0o7777)
            except OSError:
                pass
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
