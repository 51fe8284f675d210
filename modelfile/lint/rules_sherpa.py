"""sherpa-ncnn rules: the ``SherpaMetaData`` layer of streaming encoders and what sherpa-ncnn's ncnn lacks.

The value checks are :func:`modelfile.sherpa.checks.check_meta` (shared
with ``patch --add-sherpa-meta``); this module maps its problems to rule codes
and positions. The rules run on files that look like sherpa encoders (see
:func:`is_sherpa_encoder`) or when forced with ``--sherpa`` / ``sherpa = true``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from ..errors import Diagnostic
from ..graph import Node
from ..sherpa.checks import check_meta
from ..sherpa.graphfix import declared_contradictions
from ..sherpa.layers import find_meta_layers
from ..sherpa.schema import META_NAME, META_TYPE, SHERPA_CUSTOM_TYPES, ZIPFORMER_OPS, format_flag_value
from .rules import Rule, rule
from .rules_ncnn import CHECKS, gc_paused
from .sherpa_scope import is_sherpa_encoder, meta_near_misses
from .source import NcnnFile

__all__ = ["SHERPA_CUSTOM_TYPES", "SHERPA_DISABLED_TYPES", "ZIPFORMER_OPS", "is_sherpa_encoder", "meta_near_misses"]

SHERPA001 = rule("SHERPA001", "meta-missing", "error",
                 "A sherpa-ncnn encoder without the SherpaMetaData layer: sherpa-ncnn segfaults.",
                 "modelfile patch ENCODER --add-sherpa-meta (reads the values off the graph; asks for the rest)")
SHERPA002 = rule("SHERPA002", "meta-misspelled", "error",
                 "A layer that looks like the meta layer but is not 'SherpaMetaData sherpa_meta_data1 0 0'.",
                 "type and name are case-sensitive: SherpaMetaData sherpa_meta_data1 0 0 ...")
SHERPA003 = rule("SHERPA003", "meta-duplicate", "error",
                 "More than one SherpaMetaData layer; sherpa-ncnn reads the first and detection order may pick "
                 "another.",
                 "keep exactly one")
SHERPA004 = rule("SHERPA004", "meta-family", "error",
                 "Key 0 (model type) is not 1 (conv-emformer), 2 (zipformer) or 3 (lstm): sherpa-ncnn segfaults.",
                 "0=1 conv-emformer, 0=2 zipformer, 0=3 lstm")
SHERPA005 = rule("SHERPA005", "meta-missing-key", "error",
                 "A key the model family needs is missing; sherpa-ncnn reads it as 0.",
                 "add every key of the family (see `modelfile patch --add-sherpa-meta`)")
SHERPA006 = rule("SHERPA006", "zipformer-version", "error",
                 "A zipformer meta without 15=1: sherpa-ncnn >= 2.0 exits with 'too old version of Zipformer'.",
                 "add 15=1")
SHERPA007 = rule("SHERPA007", "meta-value-type", "error",
                 "A meta value of the wrong kind (a float where sherpa-ncnn reads an int, a scalar for an array).",
                 "ints without '.', arrays as -233NN=n,v1,...")
SHERPA008 = rule("SHERPA008", "meta-array-length", "error",
                 "The zipformer arrays -23316..-23320 do not all have the same length (number of stacks).",
                 "one value per encoder stack in every array")
SHERPA009 = rule("SHERPA009", "meta-io-count", "error",
                 "The encoder's inputs/outputs do not match the family: 1+7N (zipformer), 1+4L (conv-emformer), "
                 "4 (lstm).",
                 "the meta values must match the encoder you exported")
SHERPA010 = rule("SHERPA010", "meta-divisibility", "error",
                 "Meta values that break sherpa-ncnn's arithmetic (odd chunk length, indivisible left context, ...).",
                 "use the values you passed to export-for-ncnn.py")
SHERPA011 = rule("SHERPA011", "meta-value", "error",
                 "A meta value that must be positive is 0 or negative.",
                 "use the values you passed to export-for-ncnn.py")
SHERPA012 = rule("SHERPA012", "sherpa-disabled-layer", "warning",
                 "A layer type that sherpa-ncnn's ncnn build leaves out; sherpa-ncnn fails to load it.",
                 "re-export so the op becomes a type sherpa-ncnn's ncnn has, or build sherpa-ncnn with it")
SHERPA013 = rule("SHERPA013", "meta-contradicts-graph", "error",
                 "A meta value the encoder graph contradicts (layer counts, dims, kernels, context sizes read "
                 "off the graph): sherpa-ncnn builds wrong-shaped states and decodes garbage or crashes.",
                 "use the graph's value (`modelfile lint --fix` writes it)", fixable=True)

#: Built-in ncnn types that sherpa-ncnn 2.1.15's own libncnn.so cannot create (its
#: cmake/ncnn.cmake `disabled_layers`): probed by calling ncnn::create_layer(type) in that
#: library for every built-in type; 41 of the 110 are built in, these 69 are not.
SHERPA_DISABLED_TYPES = frozenset("""
    AbsVal ArgMax BatchNorm Bias BNLL Deconvolution ELU Exp Log LRN MVN Pooling Power PReLU Proposal
    ROIPooling Scale SPP Threshold Tile ConvolutionDepthWise Normalize PriorBox DetectionOutput Interp
    DeconvolutionDepthWise ShuffleChannel InstanceNorm Clip Reorg YoloDetectionOutput Yolov3DetectionOutput
    PSROIPooling ROIAlign HardSigmoid SELU HardSwish Noop PixelShuffle DeepCopy Mish StatisticsPooling Swish
    GroupNorm Softplus GRU MultiHeadAttention Pooling1D Convolution3D ConvolutionDepthWise3D Pooling3D
    Deconvolution3D DeconvolutionDepthWise3D Einsum DeformableConv2D Fold Unfold GridSample CumulativeSum
    CopyTo Erf Diag CELU Shrink RMSNorm Spectrogram InverseSpectrogram SDPA RotaryEmbed
""".split())

_PROBLEM_RULES: dict[str, Rule] = {
    "SHERPA-FAMILY": SHERPA004, "SHERPA-MISSING-KEY": SHERPA005, "SHERPA-ZIPFORMER-VERSION": SHERPA006,
    "SHERPA-TYPE": SHERPA007, "SHERPA-ARRAY-LENGTH": SHERPA008, "SHERPA-IO-COUNT": SHERPA009,
    "SHERPA-DIVISIBILITY": SHERPA010, "SHERPA-VALUE": SHERPA011,
}
def _lenient_params(node: Node) -> dict[int, Any]:
    """Decoded meta values; an old-style array with a wrong length prefix keeps the values it lists
    (that prefix is NCNN016's finding, not a second sherpa one)."""
    out: dict[int, Any] = {}
    for k, p in node.attrs.items():
        try:
            out[k] = p.value
        except ValueError:
            if p.array_style == "old" and p.text:
                try:
                    out[k] = [float(e) if re.search(r"[.eE]", e) else int(e) for e in p.text.split(",")[1:] if e]
                except ValueError:
                    pass
    return out


def _odd_array(params: dict[int, Any]) -> int:
    """The zipformer array (16..20) whose length differs from the most common length."""
    lens = {k: len(v) for k in range(16, 21) if isinstance(v := params.get(k), list)}
    if not lens:
        return 16
    common = max(set(lens.values()), key=lambda n: (list(lens.values()).count(n), n))
    return next((k for k, n in lens.items() if n != common), 16)


def check_sherpa(f: NcnnFile) -> Iterator[Diagnostic]:
    if f.doc is None or not is_sherpa_encoder(f):
        return
    exact, near = find_meta_layers(f.graph)
    yield from _check_layers(f, exact, near)
    if exact:
        yield from _check_values(f, exact[0])
    reported: set[str] = set()
    for node in f.graph.nodes:
        if node.op_type in SHERPA_DISABLED_TYPES and node.op_type not in reported:
            reported.add(node.op_type)
            ll = f.line(node)
            n = sum(1 for x in f.graph.nodes if x.op_type == node.op_type)
            yield f.at(SHERPA012, node, ll.type if ll else None,
                       f"sherpa-ncnn's ncnn is built without {node.op_type}"
                       + (f" ({n} layers)" if n > 1 else "") + f": 'layer {node.op_type} not exists or registered'")


def _check_layers(f: NcnnFile, exact: list[Node], near: list[Node]) -> Iterator[Diagnostic]:
    if not exact and not near:
        yield SHERPA001.diag(f"no {META_TYPE} {META_NAME} layer; sherpa-ncnn cannot tell the model type and "
                             "segfaults ('Unable to create a model')", f.path, 3 if f.doc else 0, 1)
    for node in near:
        ll = f.line(node)
        if node.op_type != META_TYPE:
            yield f.at(SHERPA002, node, ll.type if ll else None,
                       f"layer type {node.op_type!r} is not {META_TYPE!r} (exact, case-sensitive); "
                       "sherpa-ncnn will not find the metadata")
        else:
            yield f.at(SHERPA002, node, ll.name if ll else None,
                       f"layer name {node.name!r} is not {META_NAME!r}; sherpa-ncnn looks the layer up by that name")
    for node in exact:
        if node.inputs or node.outputs:
            ll = f.line(node)
            tok = ll.bottoms[0] if ll and ll.bottoms else (ll.tops[0] if ll and ll.tops else None)
            yield f.at(SHERPA002, node, tok, f"{META_TYPE} must have 0 bottoms and 0 tops (found "
                       f"{len(node.inputs)} and {len(node.outputs)})")
    for node in exact[1:]:
        ll = f.line(node)
        yield f.at(SHERPA003, node, ll.type if ll else None,
                   f"second {META_TYPE} {META_NAME} layer (the first is at line {f.lineno(exact[0])}); "
                   "sherpa-ncnn uses the first")


def _check_values(f: NcnnFile, node: Node) -> Iterator[Diagnostic]:
    ll = f.line(node)
    params = _lenient_params(node)
    problems = check_meta(f.graph, params)
    if any(p.code == "SHERPA-ZIPFORMER-VERSION" for p in problems):  # one finding for a missing 15=1
        problems = [p for p in problems if not (p.code == "SHERPA-MISSING-KEY" and p.key == 15)]
    for prob in problems:
        r = _PROBLEM_RULES.get(prob.code, SHERPA011)
        key: int | None
        if r is SHERPA004:
            key = 0
        elif r is SHERPA008:
            key = _odd_array(params)
        elif r is SHERPA009:
            key = {2: 16, 1: 1}.get(params.get(0), 0)  # zipformer N, conv-emformer L, lstm: the family
        else:
            key = prob.key
        tok = ll.param(key) if ll is not None and key is not None else None
        col = 0
        if tok is None and ll is not None:
            col = len(ll.body.rstrip()) + 1 if r in (SHERPA005, SHERPA006) else ll.type.col
        yield f.at(r, node, tok, prob.message, hint=prob.hint or None, col=col)
    if any(p.code in ("SHERPA-FAMILY", "SHERPA-TYPE", "SHERPA-ARRAY-LENGTH", "SHERPA-IO-COUNT") for p in problems):
        return  # values of the wrong kind or count: compared with the graph once those are fixed
    for key, c in declared_contradictions(f.graph, node, params):
        tok = ll.param(key) if ll is not None else None
        yield f.at(SHERPA013, node, tok, f"--{c.flag} {format_flag_value(c.given)} contradicts the encoder graph",
                   hint=f"the graph has {format_flag_value(c.found)} ({c.where}); `modelfile lint --fix` writes it")


CHECKS.append((frozenset(f"SHERPA{k:03d}" for k in range(1, 14)), gc_paused(check_sherpa)))
