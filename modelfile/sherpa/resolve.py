"""The meta to write: values the user gave (flags, a pasted export command) over what the graph shows."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import ModelfileError
from ..graph import Graph
from .derive import Derivation, derive
from .export_command import normalize_flags, parse_export_command
from .schema import FIELDS, SherpaMeta

__all__ = ["Resolved", "resolve_meta"]


@dataclass
class Resolved:
    """The meta, the derivation it came from, and which values the user gave (flag -> value)."""

    meta: SherpaMeta
    derivation: Derivation
    given: dict[str, Any] = field(default_factory=dict)


def resolve_meta(graph: Graph, family: str | None, flags: dict[str, Any],
                 export_command: str | None = None) -> Resolved:
    """Meta values for ``graph``: given flags, then a pasted command (icefall defaults for what it omits),
    then the graph. Values neither given nor derivable are one error naming the missing flags.

    The family is ``family``, the command's recipe, or detected from the graph.
    """
    given_raw = {k: v for k, v in flags.items() if v is not None}
    command: dict[str, Any] = {}
    if export_command:
        base = parse_export_command(export_command, family)
        family, command = base.family, dict(base.values)
    d = derive(graph, None, family)
    if family is None:
        family = d.family
        if family is None:
            raise ModelfileError(f"cannot tell the sherpa-ncnn model type from the graph: {d.family_why}",
                                 code="SHERPA-FAMILY", hint="pass --model-type {zipformer,conv-emformer,lstm}")
    given = {**command, **normalize_flags(family, given_raw)}
    if given:  # anchors (zipformer's first factor / chunk length) come from what was given
        d = derive(graph, given, family)
    values = {**{k: v for k, v in d.values.items()}, **given}
    missing = [f for f, _k, _t in FIELDS[family] if f not in values]
    if missing:
        reasons = sorted({d.undetermined.get(f, "not shown by the graph") for f in missing})
        raise ModelfileError(
            f"{family} encoder: pass {' '.join(f'--{m}' for m in missing)}; the graph does not determine "
            f"{'it' if len(missing) == 1 else 'them'} ({'; '.join(reasons)})",
            code="SHERPA-MISSING-FLAGS", hint="use the values you passed to export-for-ncnn.py")
    return Resolved(SherpaMeta.build(family, values), d, given)
