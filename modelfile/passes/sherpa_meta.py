"""SherpaMetaData: the metadata layer sherpa-ncnn needs in a streaming encoder ``.param``.

sherpa-ncnn finds the layer by exact type ``SherpaMetaData`` and name
``sherpa_meta_data1``; key 0 is the model family (1 conv-emformer,
2 zipformer, 3 lstm) and every key it reads defaults to 0 when missing, so all
of them are written. Values come from the flags of icefall's
``export-for-ncnn.py``; :func:`parse_export_command` reads a pasted command.
"""

from __future__ import annotations

import difflib
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ModelfileError
from ..graph import Graph, Node
from .report import Report

__all__ = [
    "FAMILIES", "META_NAME", "META_TYPE", "MetaProblem", "SherpaMeta", "add_sherpa_meta", "check_meta",
    "describe_meta", "find_meta_layers", "meta_from_flags", "meta_from_node", "parse_export_command",
]

META_TYPE = "SherpaMetaData"
META_NAME = "sherpa_meta_data1"
#: family name -> value of key 0
FAMILIES: dict[str, int] = {"conv-emformer": 1, "zipformer": 2, "lstm": 3}
_FAMILY_BY_ID = {v: k for k, v in FAMILIES.items()}

# (flag, key, kind) in key order; kind "int" or "list". Flag names are icefall's.
FIELDS: dict[str, list[tuple[str, int, str]]] = {
    "zipformer": [
        ("decode-chunk-len", 1, "int"),
        ("num-left-chunks", 2, "int"),
        ("pad-length", 3, "int"),
        ("model-version", 15, "int"),
        ("num-encoder-layers", 16, "list"),
        ("encoder-dims", 17, "list"),
        ("attention-dims", 18, "list"),
        ("zipformer-downsampling-factors", 19, "list"),
        ("cnn-module-kernels", 20, "list"),
    ],
    "conv-emformer": [
        ("num-encoder-layers", 1, "int"),
        ("memory-size", 2, "int"),
        ("cnn-module-kernel", 3, "int"),
        ("left-context-length", 4, "int"),  # written divided by 4 (after subsampling)
        ("chunk-length", 5, "int"),
        ("right-context-length", 6, "int"),
        ("encoder-dim", 7, "int"),
    ],
    "lstm": [
        ("num-encoder-layers", 1, "int"),
        ("encoder-dim", 2, "int"),
        ("rnn-hidden-size", 3, "int"),
    ],
}

#: icefall's argparse defaults for the flags a pasted command may omit.
ICEFALL_DEFAULTS: dict[str, dict[str, Any]] = {
    # egs/librispeech/ASR/pruned_transducer_stateless7_streaming (train.py add_model_arguments + export-for-ncnn.py)
    "zipformer": {
        "decode-chunk-len": 32, "num-left-chunks": 4, "pad-length": 7, "model-version": 1,
        "num-encoder-layers": [2, 4, 3, 2, 4], "encoder-dims": [384] * 5, "attention-dims": [192] * 5,
        "zipformer-downsampling-factors": [1, 2, 4, 8, 2], "cnn-module-kernels": [31] * 5,
    },
    # conv_emformer_transducer_stateless2/train.py (memory-size defaults to 0 there)
    "conv-emformer": {
        "num-encoder-layers": 12, "memory-size": 0, "cnn-module-kernel": 31, "left-context-length": 32,
        "chunk-length": 32, "right-context-length": 8, "encoder-dim": 512,
    },
    # lstm_transducer_stateless2/train.py
    "lstm": {"num-encoder-layers": 12, "encoder-dim": 512, "rnn-hidden-size": 1024},
}

_SUBSAMPLING = 4


@dataclass
class SherpaMeta:
    """Metadata values by icefall flag name (``left-context-length`` before subsampling)."""

    family: str
    values: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.family not in FAMILIES:
            raise ModelfileError(f"unknown model type {self.family!r}; expected one of {', '.join(FAMILIES)}")

    @classmethod
    def build(cls, family: str, values: dict[str, Any], *, defaults: bool = False) -> "SherpaMeta":
        """Meta from flag values; with ``defaults`` fill gaps from icefall's defaults."""
        meta = cls(family)
        base = dict(ICEFALL_DEFAULTS[family]) if defaults else {}
        if family == "zipformer":
            base.setdefault("pad-length", 7)
            base.setdefault("model-version", 1)
        base.update({k: v for k, v in values.items() if v is not None})
        missing = [f for f, _k, _t in FIELDS[family] if f not in base]
        if missing:
            raise ModelfileError(
                f"missing value{'s' if len(missing) > 1 else ''} for {family}: "
                + ", ".join(f"--{m}" for m in missing),
                hint="give every flag you exported with, or paste the command with --from-export-command")
        for f, _k, kind in FIELDS[family]:
            v = base[f]
            if kind == "list":
                if isinstance(v, str):
                    v = _int_list(v, f)
                base[f] = [int(x) for x in v]
            else:
                base[f] = _int(v, f)
        meta.values = {f: base[f] for f, _k, _t in FIELDS[family]}
        return meta

    def params(self) -> dict[int, Any]:
        """Key -> value as the layer carries them (ints and int lists), ascending keys."""
        out: dict[int, Any] = {0: FAMILIES[self.family]}
        for f, key, _kind in FIELDS[self.family]:
            v = self.values[f]
            if self.family == "conv-emformer" and f == "left-context-length":
                if v % _SUBSAMPLING:
                    raise ModelfileError(
                        f"--left-context-length {v} is not divisible by {_SUBSAMPLING}; sherpa-ncnn stores it "
                        "after 4x subsampling", hint="use the value you passed to export-for-ncnn.py")
                v //= _SUBSAMPLING
            out[key] = v
        return dict(sorted(out.items()))

    def to_node(self) -> Node:
        """A new ``SherpaMetaData sherpa_meta_data1 0 0 ...`` layer."""
        from ..formats.ncnn.params import Param

        node = Node(META_TYPE, META_NAME)
        for key, v in self.params().items():
            node.attrs[key] = Param.of(key, v, array_style="old")
        return node

    def line(self) -> str:
        """The params part of the layer line, e.g. ``0=3 1=12 2=512 3=1024``."""
        return " ".join(p.render() for p in self.to_node().attrs.values())


def _int(v: Any, flag: str) -> int:
    try:
        if isinstance(v, float) and not v.is_integer():
            raise ValueError
        return int(v)
    except (TypeError, ValueError):
        raise ModelfileError(f"--{flag} must be an integer, got {v!r}") from None


def _int_list(text: str, flag: str) -> list[int]:
    try:
        return [int(x) for x in re.split(r"[,\s]+", text.strip().strip("\"'")) if x]
    except ValueError:
        raise ModelfileError(f"--{flag} must be a comma list of integers, got {text!r}") from None


# -- reading existing layers -----------------------------------------------------

def find_meta_layers(graph: Graph) -> tuple[list[Node], list[Node]]:
    """``(exact, near_misses)``: layers that are the meta layer, and ones that look like a typo of it."""
    exact: list[Node] = []
    near: list[Node] = []
    for n in graph.nodes:
        if n.op_type == META_TYPE and n.name == META_NAME:
            exact.append(n)
        elif _similar(n.op_type, META_TYPE) or (n.op_type == META_TYPE) or (
            not n.inputs and not n.outputs and _similar(n.name, META_NAME)
        ):
            near.append(n)
    return exact, near


def _similar(a: str, b: str) -> bool:
    if a == b:
        return False
    if a.lower() == b.lower():
        return True
    return difflib.SequenceMatcher(None, a.lower(), b.lower()).ratio() >= 0.8


def meta_from_node(node: Node) -> dict[int, Any]:
    """Key -> decoded value of a meta layer (undecodable values as their text)."""
    out: dict[int, Any] = {}
    for k, p in node.attrs.items():
        try:
            out[k] = p.value
        except ValueError:
            out[k] = p.text
    return out


def describe_meta(graph: Graph) -> dict[str, Any] | None:
    """Decoded metadata for ``modelfile info`` (family and named fields), or None."""
    exact, near = find_meta_layers(graph)
    if not exact and not near:
        return None
    node = exact[0] if exact else near[0]
    vals = meta_from_node(node)
    family = _FAMILY_BY_ID.get(vals.get(0)) if isinstance(vals.get(0), int) else None
    fields: dict[str, Any] = {}
    if family:
        for f, key, _kind in FIELDS[family]:
            v = vals.get(key)
            if family == "conv-emformer" and f == "left-context-length" and isinstance(v, int):
                fields["left-context-length (after subsampling)"] = v
                continue
            fields[f] = v
    info: dict[str, Any] = {
        "layer": f"{node.op_type} {node.name}",
        "family": family or f"unknown (0={vals.get(0)!r})",
        "fields": fields,
        "raw": {str(k): v for k, v in vals.items()},
    }
    if not exact:
        info["warning"] = "not the exact type/name sherpa-ncnn looks for (SherpaMetaData sherpa_meta_data1)"
    return info


# -- checks ----------------------------------------------------------------------

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
    family = _FAMILY_BY_ID.get(fam_id) if isinstance(fam_id, int) else None
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


# -- the transform ---------------------------------------------------------------

def add_sherpa_meta(graph: Graph, meta: SherpaMeta, *, replace: bool = False, force: bool = False) -> Report:
    """Insert the SherpaMetaData layer as the first layer.

    Idempotent: an identical existing layer is left alone. A different one (or
    a misspelled near-miss) is an error unless ``replace``. Values that cannot
    fit the graph are refused unless ``force``.
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
                f"a different {META_TYPE} layer already exists (line {where}): {_params_text(old)}",
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
        probs = check_meta(graph, meta.params())
        if probs:
            p = probs[0]
            more = f" (and {len(probs) - 1} more)" if len(probs) > 1 else ""
            raise ModelfileError(f"{p.message}{more}", code=p.code,
                                 hint=(p.hint + "; " if p.hint else "") + "--force writes it anyway")
    for old in [*exact, *near]:
        graph.remove(old)
        report.add("remove-layer", f"{old.op_type} {old.name}", before=_params_text(old))
    graph.insert(0, new)
    report.add("add-layer", f"{META_TYPE} {META_NAME}", after=_params_text(new),
               detail=f"family {meta.family}; layer count +1, blob count unchanged, .bin untouched")
    return report


def _params_text(node: Node) -> str:
    return " ".join(p.render() for p in node.attrs.values())


# -- icefall export commands -----------------------------------------------------

_SCRIPT_FAMILY = (
    ("lstm", "lstm"),
    ("emformer", "conv-emformer"),
    ("zipformer", "zipformer"),
    ("stateless7_streaming", "zipformer"),
)


def parse_export_command(text: str, family: str | None = None) -> SherpaMeta:
    """Values from a pasted ``export-for-ncnn.py ...`` command, icefall defaults for omitted flags.

    The family comes from ``family`` or from the recipe directory in the script path.
    """
    if "\n" not in text and Path(text).is_file():
        text = Path(text).read_text(encoding="utf-8")
    text = re.sub(r"\\\r?\n", " ", text)
    try:
        argv = shlex.split(text, comments=True)
    except ValueError as e:
        raise ModelfileError(f"cannot split the export command: {e}") from None
    script = next((a for a in argv if a.endswith(".py")), "")
    if family is None:
        for needle, fam in _SCRIPT_FAMILY:
            if needle in script:
                family = fam
                break
    if family is None:
        raise ModelfileError("cannot tell the model type from the command; pass --model-type",
                             hint=f"script was {script or 'not found'}")
    known = {f for f, _k, _t in FIELDS[family]}
    values: dict[str, Any] = {}
    i = 0
    while i < len(argv):
        a = argv[i]
        if a.startswith("--"):
            flag, eq, val = a[2:].partition("=")
            flag = flag.replace("_", "-")
            if not eq:
                if i + 1 < len(argv) and not argv[i + 1].startswith("--"):
                    val = argv[i + 1]
                    i += 1
                else:
                    val = ""
            if flag == "num-encoder-layer":  # the singular spelling in icefall's zipformer table
                flag = "num-encoder-layers"
            if flag in known:
                kind = next(t for f, _k, t in FIELDS[family] if f == flag)
                values[flag] = _int_list(val, flag) if kind == "list" else _int(val, flag)
        i += 1
    return SherpaMeta.build(family, values, defaults=True)


def meta_from_flags(family: str | None, flags: dict[str, Any], export_command: str | None = None) -> SherpaMeta:
    """Meta from command-line flags (``None`` = not given), optionally on top of a pasted export command.

    Flags that belong to another family are refused, naming the ones this family takes.
    """
    given = {k: v for k, v in flags.items() if v is not None}
    if export_command:
        base = parse_export_command(export_command, family)
        family, values = base.family, {**base.values, **given}
    else:
        if family is None:
            raise ModelfileError("pass --model-type {zipformer,conv-emformer,lstm} or --from-export-command")
        values = given
    if family not in FIELDS:
        raise ModelfileError(f"unknown model type {family!r}; expected one of {', '.join(FAMILIES)}")
    foreign = sorted(k for k in given if k not in {f for f, _k, _t in FIELDS[family]})
    if foreign:
        raise ModelfileError(f"--{foreign[0]} is not a {family} option; {family} takes "
                             + ", ".join(f"--{f}" for f, _k, _t in FIELDS[family] if f in ICEFALL_DEFAULTS[family]))
    if family == "zipformer" and isinstance(values.get("num-encoder-layers"), (int, str)):
        v = values["num-encoder-layers"]
        values["num-encoder-layers"] = _int_list(str(v), "num-encoder-layers")
    return SherpaMeta.build(family, values)
