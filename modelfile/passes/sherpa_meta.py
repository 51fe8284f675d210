"""The ``add-sherpa-meta`` transform: insert the SherpaMetaData layer sherpa-ncnn needs in an encoder.

The schema, export-command parsing, derivation from the graph and checks live
in :mod:`modelfile.sherpa`; this module is the edit. Names the rest of the
project imported from here are re-exported.
"""

from __future__ import annotations

from typing import Any

from ..errors import ModelfileError
from ..graph import Graph
from ..sherpa.checks import MetaProblem, check_meta, contradictions
from ..sherpa.derive import Derivation, derive, detect_family
from ..sherpa.describe import describe_meta
from ..sherpa.export_command import normalize_flags, parse_export_command
from ..sherpa.layers import find_meta_layers, meta_from_node, params_text
from ..sherpa.resolve import resolve_meta
from ..sherpa.schema import FAMILIES, FIELDS, ICEFALL_DEFAULTS, META_NAME, META_TYPE, SherpaMeta
from .report import Report

__all__ = [
    "FAMILIES", "FIELDS", "ICEFALL_DEFAULTS", "META_NAME", "META_TYPE", "MetaProblem", "SherpaMeta",
    "add_sherpa_meta", "check_meta", "describe_meta", "find_meta_layers", "meta_from_flags", "meta_from_node",
    "parse_export_command", "patch_sherpa_meta",
]


def add_sherpa_meta(graph: Graph, meta: SherpaMeta, *, replace: bool = False, force: bool = False,
                    given: dict[str, Any] | None = None, derivation: Derivation | None = None) -> Report:
    """Insert the SherpaMetaData layer as the first layer.

    Idempotent: an identical existing layer is left alone. A different one (or
    a misspelled near-miss) is an error unless ``replace``. Values that cannot
    fit the graph, or that the graph contradicts (``given``: flag -> value,
    default every value of ``meta``), are refused unless ``force``.
    """
    report = Report("add-sherpa-meta")
    new = meta.to_node()
    exact, near = find_meta_layers(graph)
    if exact:
        old = exact[0]
        same = (len(exact) == 1 and not old.inputs and not old.outputs
                and meta_from_node(old) == meta_from_node(new))
        if same and not near:
            report.notes.append(f"{META_TYPE} {META_NAME} already present with the same values; nothing to do")
            return report
        if not replace:
            where = old.pos.line if old.pos else "?"
            raise ModelfileError(
                f"a different {META_TYPE} layer already exists (line {where}): {params_text(old)}",
                code="SHERPA-EXISTS", file=old.pos.file if old.pos else "", line=old.pos.line if old.pos else 0,
                column=1, hint="pass --replace to replace it")
    if near and not replace:
        n = near[0]
        raise ModelfileError(
            f"found {n.op_type} {n.name}, which looks like a misspelled {META_TYPE} {META_NAME}; "
            "sherpa-ncnn will not find it",
            code="SHERPA-NEAR-MISS", file=n.pos.file if n.pos else "", line=n.pos.line if n.pos else 0, column=1,
            hint="pass --replace to replace it with a correct layer")
    if not force:
        _refuse_misfits(graph, meta, given, derivation)
    for old in [*exact, *near]:
        graph.remove(old)
        report.add("remove-layer", f"{old.op_type} {old.name}", before=params_text(old))
    graph.insert(0, new)
    report.add("add-layer", f"{META_TYPE} {META_NAME}", after=params_text(new),
               detail=f"family {meta.family}; layer count +1, blob count unchanged, .bin untouched")
    if derivation is not None:
        derived = [f for f in meta.values if f not in (given or {}) and f in derivation.evidence]
        if derived:
            report.notes.append("from the graph: " + ", ".join(f"--{f}" for f in derived))
    return report


def _refuse_misfits(graph: Graph, meta: SherpaMeta, given: dict[str, Any] | None,
                    derivation: Derivation | None) -> None:
    probs = check_meta(graph, meta.params())
    if probs:
        p = probs[0]
        more = f" (and {len(probs) - 1} more)" if len(probs) > 1 else ""
        raise ModelfileError(f"{p.message}{more}", code=p.code,
                             hint=(p.hint + "; " if p.hint else "") + "--force writes it anyway")
    values = dict(meta.values) if given is None else given
    detected, why = detect_family(graph)
    if detected is not None and detected != meta.family:
        raise ModelfileError(f"--model-type {meta.family} contradicts the encoder graph: it looks like a "
                             f"{detected} encoder ({why})", code="SHERPA-CONTRADICTS",
                             hint="--force writes it anyway")
    d = derivation if derivation is not None else derive(graph, values, meta.family)
    bad = contradictions(values, d)
    if bad:
        c = bad[0]
        more = f" (and {len(bad) - 1} more: {', '.join('--' + b.flag for b in bad[1:])})" if len(bad) > 1 else ""
        pos = c.node.pos if c.node is not None else None
        raise ModelfileError(c.message() + more, code="SHERPA-CONTRADICTS", file=pos.file if pos else "",
                             line=pos.line if pos else 0, column=1 if pos else 0,
                             hint="fix the value, leave it out to use the graph's, or --force writes it anyway")


def patch_sherpa_meta(graph: Graph, family: str | None, flags: dict[str, Any], export_command: str | None = None,
                      *, replace: bool = False, force: bool = False) -> Report:
    """``patch --add-sherpa-meta``: given values (flags, a pasted command) over the graph's, checked, inserted.

    With no values at all the family is detected and every derivable field
    filled from the graph; what the graph does not determine is one error
    naming the flags to pass.
    """
    r = resolve_meta(graph, family, flags, export_command)
    return add_sherpa_meta(graph, r.meta, replace=replace, force=force, given=r.given, derivation=r.derivation)


def meta_from_flags(family: str | None, flags: dict[str, Any], export_command: str | None = None) -> SherpaMeta:
    """Meta from command-line flags alone (``None`` = not given), optionally on top of a pasted command.

    No graph: every field must be given. :func:`patch_sherpa_meta` fills the
    rest from the encoder.
    """
    given = {k: v for k, v in flags.items() if v is not None}
    if export_command:
        base = parse_export_command(export_command, family)
        family, values = base.family, {**base.values, **normalize_flags(base.family, given)}
    else:
        if family is None:
            raise ModelfileError("pass --model-type {zipformer,conv-emformer,lstm} or --from-export-command")
        values = normalize_flags(family, given)
    return SherpaMeta.build(family, values)
