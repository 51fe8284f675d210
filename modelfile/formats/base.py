"""The contract every format package fulfils: a :class:`FormatHandler` and its :class:`EditOps`.

A format lives in ``modelfile/formats/<name>/`` and registers one handler in
:mod:`modelfile.formats.registry`. Nothing outside ``formats/`` asks which
format a model is in: it calls the handler (``model.handler``) or the edit
operations it hands out (``model.ops``). :func:`tests` run the same contract
test over every registered format.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import numpy as np

    from ..graph import Node, Value
    from ..model import Model
    from ..report import Change
    from ..report import SaveResult

__all__ = ["EditOps", "FormatHandler", "RuntimeCheck"]


@dataclass(slots=True)
class RuntimeCheck:
    """What loading written files in the format's runtime said.

    ``ok`` is None when the runtime could not be asked (``skipped`` says why).
    """

    ok: bool | None
    message: str = ""
    skipped: str = ""
    runtime: str = ""
    extra: dict[str, Any] = field(default_factory=dict)


class EditOps(Protocol):
    """The building blocks transforms use, implemented once per format.

    Shapes are lists of ints with ``None`` for unknown dims (or a mo ``Shape``
    where noted); every editing call returns the :class:`Change` records of
    what it did.
    """

    def prepare(self) -> None:
        """Called once before a transform edits the graph."""

    def is_input(self, node: "Node") -> bool:
        """Whether ``node`` is a graph input (ncnn ``Input``, IR ``Parameter``)."""

    def value_dtype(self, value: "Value") -> str | None:
        """The element type of ``value`` as far as the format knows it."""

    def value_shape(self, value: "Value") -> list[int | None] | None:
        """The dims of ``value`` (None: unknown rank)."""

    def set_input(self, node: "Node", shape: Any, dtype: str | None) -> list["Change"]:
        """Give an input a new shape (mo ``Shape`` or list) and/or element type."""

    def freeze_input(self, node: "Node", array: "np.ndarray") -> list["Change"]:
        """Replace an input by a constant holding ``array``."""

    def new_constant(self, name: str, array: "np.ndarray", *, like: "Value | None" = None) -> "Value":
        """A new constant (placed before the first user of ``like``)."""

    def new_input(self, name: str, *, shape: Any, dtype: str | None, like: "Value | None" = None) -> "Value":
        """A new graph input."""

    def set_outputs(self, values: Sequence["Value"]) -> list["Change"]:
        """Make ``values`` the model outputs, in order."""

    def order_inputs(self, order: Sequence["Value"]) -> list["Change"]:
        """Put these inputs first, in this order (where the format has an order)."""

    def keep_roots(self) -> list["Value"]:
        """The values pruning must keep computable."""

    def always_keep(self, node: "Node") -> bool:
        """Nodes pruning keeps whatever they feed (sinks, metadata layers)."""

    def remove_nodes(self, nodes: Sequence["Node"]) -> None:
        """Remove a batch of nodes (and whatever format state they own)."""

    def rename_value(self, value: "Value", old: str, new: str) -> list["Change"]:
        """Rename tensor ``old`` of ``value`` to ``new`` where the format stores it."""

    def rename_clash(self, value: "Value", new: str) -> str | None:
        """Why ``value`` cannot take the name ``new`` in this format (None: it can)."""

    def finish(self) -> list["Change"]:
        """Tidy up after a transform (e.g. unused Split tops)."""

    def weights_bytes(self) -> int | None:
        """The size the weights file has after a save of the model as it is now (None: not known here)."""


class FormatHandler(ABC):
    """One file format: how to recognise, read, write, describe and edit it."""

    #: the registry name, also ``Model.format``
    name: str = ""
    #: what the format can express beyond a plain graph ("state": ReadValue/Assign variables)
    capabilities: frozenset[str] = frozenset()

    @abstractmethod
    def sniff(self, path: Path, head: bytes) -> int:
        """How sure (0 = not this format, higher wins) that ``path`` starting with ``head`` is ours."""

    @abstractmethod
    def read(self, path: Path, **options: Any) -> "Model":
        """Load ``path`` into a :class:`~modelfile.model.Model` (weights stay on disk, lazily mapped).

        Options a format may use (and must accept): ``check_weights`` (False: leave the weights
        references' ranges to lint), ``prior`` (a model the file was just written from: what the file
        shares with that model's source may be taken from its parse; the save gate's re-read).
        """

    @abstractmethod
    def write(self, model: "Model", path: Path, *, final: Path | None = None, **options: Any) -> "SaveResult":
        """Write the model's files with ``path`` as the main file.

        ``final`` is where the files will end up when ``path`` is a staging
        place: a weights file unchanged at its final place is then not written.
        """

    @abstractmethod
    def companions(self, path: Path) -> list[Path]:
        """Files that belong with main file ``path`` and change with it (e.g. the ``.bin``)."""

    @abstractmethod
    def describe(self, model: "Model", *, layers: bool = False) -> dict[str, Any]:
        """A JSON-able summary for ``modelfile info`` (``layers``: the weights per layer too)."""

    @abstractmethod
    def ops(self, model: "Model") -> EditOps:
        """The edit operations for ``model``."""

    def to_text(self, model: "Model") -> str | None:
        """The main file as text (None: the format or this model has no text form)."""
        return None

    def read_text(self, text: str, path: Path | None = None) -> "Model":
        """Load a main file's text as if it were ``path``'s (which locates the weights and names the file in
        errors); ``lint --fix`` saves a repaired text this way, through the gate."""
        from ..errors import ModelfileError

        raise ModelfileError(f"{self.name} models have no text form", file=str(path or ""))

    def runtime_check(self, path: Path, *, custom_layers: Sequence[str] = (), source: "Model | None" = None,
                      timeout: float = 60.0) -> RuntimeCheck:
        """Load written files in the format's runtime (skipped when it is not installed)."""
        return RuntimeCheck(None, skipped=f"no runtime check for {self.name}")

    def warm_runtime(self) -> None:
        """Start loading the runtime :meth:`runtime_check` uses in the background and return at once (a
        caller that will save calls it early, so the runtime's import overlaps the work; optional)."""

    def __repr__(self) -> str:
        return f"<format {self.name}>"
