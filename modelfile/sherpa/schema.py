"""The SherpaMetaData schema: families, keys, icefall flag names and defaults, and the meta value object.

sherpa-ncnn finds the layer by exact type ``SherpaMetaData`` and name
``sherpa_meta_data1``; key 0 is the model family (1 conv-emformer,
2 zipformer, 3 lstm) and every key it reads defaults to 0 when missing, so all
of them are written. Values are named by the flags of icefall's
``export-for-ncnn.py`` everywhere (messages included).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import ModelfileError

if TYPE_CHECKING:
    from ..graph import Node

__all__ = [
    "FAMILIES", "FAMILY_BY_ID", "FIELDS", "ICEFALL_DEFAULTS", "META_NAME", "META_TYPE", "SUBSAMPLING",
    "SHERPA_CUSTOM_TYPES", "SherpaMeta", "ZIPFORMER_CONSTANTS", "ZIPFORMER_OPS", "field_key", "field_kind", "flag_value_from_param", "format_flag_value",
    "param_value_from_flag", "parse_int", "parse_int_list",
]

META_TYPE = "SherpaMetaData"
META_NAME = "sherpa_meta_data1"
#: family name -> value of key 0
FAMILIES: dict[str, int] = {"conv-emformer": 1, "zipformer": 2, "lstm": 3}
FAMILY_BY_ID: dict[int, str] = {v: k for k, v in FAMILIES.items()}

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

#: custom layers sherpa-ncnn registers on the encoder net (model.cc RegisterCustomLayers): zipformer's ops
ZIPFORMER_OPS = frozenset({"PoolingModuleNoProj", "TensorAsStrided", "SimpleUpsample", "Stack"})
SHERPA_CUSTOM_TYPES = frozenset({META_TYPE}) | ZIPFORMER_OPS

#: zipformer keys that are code constants, not export flags: written with these values unless given
ZIPFORMER_CONSTANTS: dict[str, int] = {"pad-length": 7, "model-version": 1}

SUBSAMPLING = 4


def field_key(family: str, flag: str) -> int:
    """The meta key of ``flag`` in ``family``."""
    return next(k for f, k, _t in FIELDS[family] if f == flag)


def field_kind(family: str, flag: str) -> str:
    """``"int"`` or ``"list"``."""
    return next(t for f, _k, t in FIELDS[family] if f == flag)


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
            for k, v in ZIPFORMER_CONSTANTS.items():
                base.setdefault(k, v)
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
                    v = parse_int_list(v, f)
                elif isinstance(v, int):
                    v = [v]
                base[f] = [int(x) for x in v]
            else:
                base[f] = parse_int(v, f)
        meta.values = {f: base[f] for f, _k, _t in FIELDS[family]}
        return meta

    def params(self) -> dict[int, Any]:
        """Key -> value as the layer carries them (ints and int lists), ascending keys."""
        out: dict[int, Any] = {0: FAMILIES[self.family]}
        for f, key, _kind in FIELDS[self.family]:
            v = self.values[f]
            if self.family == "conv-emformer" and f == "left-context-length":
                if v % SUBSAMPLING:
                    raise ModelfileError(
                        f"--left-context-length {v} is not divisible by {SUBSAMPLING}; sherpa-ncnn stores it "
                        "after 4x subsampling", hint="use the value you passed to export-for-ncnn.py")
                v //= SUBSAMPLING
            out[key] = v
        return dict(sorted(out.items()))

    def to_node(self) -> "Node":
        """A new ``SherpaMetaData sherpa_meta_data1 0 0 ...`` layer."""
        from ..formats.ncnn.params import Param
        from ..graph import Node

        node = Node(META_TYPE, META_NAME)
        for key, v in self.params().items():
            node.attrs[key] = Param.of(key, v, array_style="old")
        return node

    def line(self) -> str:
        """The params part of the layer line, e.g. ``0=3 1=12 2=512 3=1024``."""
        return " ".join(p.render() for p in self.to_node().attrs.values())


def flag_value_from_param(family: str, flag: str, value: Any) -> Any:
    """A decoded meta value as the flag would be typed (conv-emformer key 4 times 4)."""
    if family == "conv-emformer" and flag == "left-context-length" and isinstance(value, int):
        return value * SUBSAMPLING
    return value


def param_value_from_flag(family: str, flag: str, value: Any) -> Any:
    """A flag value as the meta layer stores it (conv-emformer key 4 divided by 4)."""
    if family == "conv-emformer" and flag == "left-context-length" and isinstance(value, int):
        return value // SUBSAMPLING
    return value


def format_flag_value(value: Any) -> str:
    """``2,4,3`` for lists, the number otherwise (as typed on a command line)."""
    return ",".join(str(v) for v in value) if isinstance(value, (list, tuple)) else str(value)


def parse_int(v: Any, flag: str) -> int:
    """An integer flag value, or a ModelfileError naming ``--flag``."""
    try:
        if isinstance(v, float) and not v.is_integer():
            raise ValueError
        return int(v)
    except (TypeError, ValueError):
        raise ModelfileError(f"--{flag} must be an integer, got {v!r}") from None


def parse_int_list(text: str, flag: str) -> list[int]:
    """A comma (or space) separated integer list flag value."""
    try:
        return [int(x) for x in re.split(r"[,\s]+", text.strip().strip("\"'")) if x]
    except ValueError:
        raise ModelfileError(f"--{flag} must be a comma list of integers, got {text!r}") from None
