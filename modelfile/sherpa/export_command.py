"""icefall ``export-for-ncnn.py`` command lines and command-line flags as meta values."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

from ..errors import ModelfileError
from .schema import FAMILIES, FIELDS, ICEFALL_DEFAULTS, SherpaMeta, field_kind, parse_int, parse_int_list

__all__ = ["normalize_flags", "parse_export_command"]


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
                values[flag] = parse_int_list(val, flag) if kind == "list" else parse_int(val, flag)
        i += 1
    return SherpaMeta.build(family, values, defaults=True)


def normalize_flags(family: str, flags: dict[str, Any]) -> dict[str, Any]:
    """Given flags (``None`` = not given) parsed for ``family``: ints and int lists.

    Flags that belong to another family are refused, naming the ones this family takes.
    """
    if family not in FIELDS:
        raise ModelfileError(f"unknown model type {family!r}; expected one of {', '.join(FAMILIES)}")
    given = {k: v for k, v in flags.items() if v is not None}
    known = {f for f, _k, _t in FIELDS[family]}
    foreign = sorted(k for k in given if k not in known)
    if foreign:
        raise ModelfileError(f"--{foreign[0]} is not a {family} option; {family} takes "
                             + ", ".join(f"--{f}" for f, _k, _t in FIELDS[family] if f in ICEFALL_DEFAULTS[family]))
    out: dict[str, Any] = {}
    for flag, v in given.items():
        if field_kind(family, flag) == "list":
            out[flag] = parse_int_list(v, flag) if isinstance(v, str) else (
                [parse_int(x, flag) for x in v] if isinstance(v, (list, tuple)) else [parse_int(v, flag)])
        else:
            out[flag] = parse_int(v, flag)
    return out
