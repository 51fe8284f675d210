"""Checks of SherpaMetaData values: against sherpa-ncnn's rules, and against what the encoder graph shows.

:func:`check_meta` finds values sherpa-ncnn cannot work with (missing keys,
wrong kinds, I/O counts, divisibility); :func:`contradictions` compares values
with :func:`modelfile.sherpa.derive.derive` and names the layer that disagrees.
Both are shared by ``patch --add-sherpa-meta``, ``lint`` and ``info``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..graph import Graph, Node
from .derive import Derivation
from .schema import FAMILY_BY_ID, FIELDS, format_flag_value

__all__ = ["Contradiction", "MetaProblem", "check_meta", "contradictions"]


@dataclass(frozen=True, slots=True)
class MetaProblem:
    """A reason the values cannot fit the graph (``code`` is shared with the linter)."""

    code: str
    message: str
    hint: str = ""
    #: the meta key the problem is about (for positions), when there is one
    key: int | None = None


def _io_counts(graph: Graph) -> tuple[int, int]:
    n_in = sum(len(n.outputs) for n in graph.nodes if n.op_type == "Input")
    n_out = len(graph.dangling_values())
    return n_in, n_out


def check_meta(graph: Graph, params: dict[int, Any]) -> list[MetaProblem]:
    """Check decoded meta params (key -> value) against the encoder graph and sherpa-meta rules."""
    probs: list[MetaProblem] = []
    fam_id = params.get(0)
    family = FAMILY_BY_ID.get(fam_id) if isinstance(fam_id, int) else None
    if family is None:
        return [MetaProblem("SHERPA-FAMILY", f"unknown model type 0={fam_id!r}; sherpa-ncnn knows 1 (conv-emformer), "
                            "2 (zipformer), 3 (lstm)", "sherpa-ncnn segfaults on an unknown type")]
    for f, key, kind in FIELDS[family]:
        v = params.get(key)
        if v is None:
            probs.append(MetaProblem("SHERPA-MISSING-KEY", f"{family}: key {key} ({f}) is missing; sherpa-ncnn reads it as 0",
                                     f"add {key}=...", key))
            continue
        if kind == "list" and not isinstance(v, list):
            probs.append(MetaProblem("SHERPA-TYPE", f"{family}: key {key} ({f}) must be an int array -{23300 + key}=n,...",
                                     key=key))
        elif kind == "int" and not isinstance(v, int):
            probs.append(MetaProblem("SHERPA-TYPE", f"{family}: key {key} ({f}) must be an integer, found {v!r}",
                                     "write it without a decimal point", key))
    n_in, n_out = _io_counts(graph)
    if family == "zipformer":
        if params.get(15, 0) < 1 if isinstance(params.get(15, 0), int) else True:
            probs.append(MetaProblem("SHERPA-ZIPFORMER-VERSION", "zipformer needs 15=1 (model version); "
                                     "sherpa-ncnn >= 2.0 exits with 'too old version of Zipformer'", "add 15=1", 15))
        lists = {key: params.get(key) for key in (16, 17, 18, 19, 20)}
        lens = {k: len(v) for k, v in lists.items() if isinstance(v, list)}
        if lens and len(set(lens.values())) > 1:
            probs.append(MetaProblem("SHERPA-ARRAY-LENGTH", "zipformer arrays -23316..-23320 must all have the same "
                                     f"length N (number of stacks), found {sorted(set(lens.values()))}"))
        n = max(lens.values()) if lens else 0
        if n and (n_in != 1 + 7 * n or n_out != 1 + 7 * n):
            probs.append(MetaProblem("SHERPA-IO-COUNT", f"zipformer with N={n} stacks needs {1 + 7 * n} inputs and outputs "
                                     f"(1+7N); the graph has {n_in} inputs and {n_out} outputs",
                                     "the arrays must match the encoder you exported"))
        dcl, nlc = params.get(1), params.get(2)
        if isinstance(dcl, int) and dcl % 2:
            probs.append(MetaProblem("SHERPA-DIVISIBILITY", f"zipformer decode-chunk-len {dcl} must be even", key=1))
        factors = lists.get(19)
        if isinstance(dcl, int) and isinstance(nlc, int) and isinstance(factors, list):
            lc = dcl // 2 * nlc
            bad = [f for f in factors if not isinstance(f, int) or f <= 0 or lc % f]
            if bad:
                probs.append(MetaProblem("SHERPA-DIVISIBILITY", f"zipformer left context decode-chunk-len/2*num-left-chunks = {lc} "
                                         f"is not divisible by downsampling factor(s) {bad}", key=19))
        att = lists.get(18)
        if isinstance(att, list) and any(isinstance(a, int) and a % 2 for a in att):
            probs.append(MetaProblem("SHERPA-DIVISIBILITY", f"zipformer attention dims must be even, found {att}", key=18))
        ker = lists.get(20)
        if isinstance(ker, list) and any(isinstance(k, int) and k < 2 for k in ker):
            probs.append(MetaProblem("SHERPA-DIVISIBILITY", f"zipformer cnn module kernels must be >= 2, found {ker}", key=20))
    elif family == "conv-emformer":
        layers = params.get(1)
        if isinstance(layers, int) and (n_in != 1 + 4 * layers or n_out != 1 + 4 * layers):
            probs.append(MetaProblem("SHERPA-IO-COUNT", f"conv-emformer with {layers} layers needs {1 + 4 * layers} inputs and "
                                     f"outputs (1+4L); the graph has {n_in} inputs and {n_out} outputs"))
        for key, f in ((5, "chunk-length"), (6, "right-context-length")):
            v = params.get(key)
            if isinstance(v, int) and v % 4:
                probs.append(MetaProblem("SHERPA-DIVISIBILITY", f"conv-emformer {f} {v} must be a multiple of 4", key=key))
    elif family == "lstm":
        if n_in != 4 or n_out != 4:
            probs.append(MetaProblem("SHERPA-IO-COUNT", f"lstm encoders have 4 inputs (x, x_lens, h, c) and 4 outputs; "
                                     f"the graph has {n_in} inputs and {n_out} outputs"))
    for key, v in params.items():
        if key in (1, 2, 3, 5, 6, 7) and family != "zipformer" and isinstance(v, int) and v <= 0 and not (
            family == "conv-emformer" and key == 2
        ):
            probs.append(MetaProblem("SHERPA-VALUE", f"{family}: key {key} must be > 0, found {v}", key=key))
    return probs



@dataclass(frozen=True, slots=True)
class Contradiction:
    """A value (by icefall flag) that the graph contradicts."""

    flag: str
    given: Any
    found: Any
    #: evidence text: what was read and at which layer / line
    where: str
    node: Node | None = None

    def message(self) -> str:
        return (f"--{self.flag} {format_flag_value(self.given)} contradicts the encoder graph: it has "
                f"{format_flag_value(self.found)} ({self.where})")


def contradictions(values: dict[str, Any], derivation: Derivation) -> list[Contradiction]:
    """Every value in ``values`` (flag -> value as typed) that differs from what the graph shows.

    Values the graph does not determine, and assumed ones (zipformer's code
    constants, a first downsampling factor taken as 1), are never contradicted.
    """
    out: list[Contradiction] = []
    for flag, given in values.items():
        if given is None or flag not in derivation.values or flag in derivation.assumed:
            continue
        found = derivation.values[flag]
        if isinstance(found, list):
            g = list(given) if isinstance(given, (list, tuple)) else [given]
            if g != found:
                idx = next((i for i, (a, b) in enumerate(zip(g, found)) if a != b), min(len(g), len(found)))
                where = derivation.where(flag, idx) if idx < len(found) else derivation.where(flag)
                if len(g) != len(found):
                    where = f"{len(found)} stacks; {where}"
                out.append(Contradiction(flag, g, found, where,
                                         derivation.evidence_node(flag, idx if idx < len(found) else None)))
        elif given != found:
            out.append(Contradiction(flag, given, found, derivation.where(flag), derivation.evidence_node(flag)))
    return out
