"""``modelfile info``: the weights section (bytes per storage type, per layer with ``--layers``)."""

from __future__ import annotations

import sys
from typing import Any

from .texttable import Table, styled

__all__ = ["print_weights"]


def _mb(n: int | None) -> str:
    return "" if n is None else f"{n:,}"


def print_weights(w: dict[str, Any] | None) -> None:
    """Print ``data["weights"]`` of :func:`modelfile.info.describe` (ncnn or IR)."""
    if not w:
        return
    if "error" in w:
        sys.stdout.write(f"{styled('weights', 'bold')}: cannot be accounted for: {w['error']}\n")
        return
    ncnn = "by_dtype" in w
    t = Table("storage" if ncnn else "element type", "consts" if not ncnn else "parameters", "bytes",
              title=f"weights: {_mb(w.get('bytes'))} bytes" + (f", {w['params']:,} parameters" if ncnn else ""),
              justify=("left", "right", "right"))
    for k, v in (w["by_dtype"] if ncnn else w["by_element_type"]).items():
        t.add_row(k, _mb(v["params"] if ncnn else v["consts"]), _mb(v["bytes"]))
    if ncnn:
        t.add_row("(of which flag words / padding)", "", f"{w['flag_bytes']:,} / {w['padding_bytes']:,}")
        for key, label in (("trailing_bytes", "after the last layer"), ("unlocated_bytes", "unknown layout")):
            if w.get(key):
                t.add_row(label, "", _mb(w[key]))
    else:
        if w["shared"]["regions"]:
            t.add_row("shared regions", str(w["shared"]["consts"]), f"{w['shared']['bytes_saved']:,} saved")
        t.add_row("unused", str(w["unused"]["regions"]) + " region(s)", _mb(w["unused"]["bytes"]))
        if w.get("overlap_bytes"):
            t.add_row("overlapping", "", _mb(w["overlap_bytes"]))
    sys.stdout.write(t.render())
    rows = w.get("layers") or w.get("consts")
    if rows:
        title = "weights per layer" if ncnn else "consts"
        if ncnn:
            cols = ("layer", "type", "offset", "bytes", "parameters", "storage")
            lt = Table(*cols, title=title, justify=["right" if c in ("offset", "bytes", "parameters") else "left"
                                                     for c in cols])
            for r in rows:
                lt.add_row(r["layer"], r["type"], _mb(r["offset"]), _mb(r["bytes"]), _mb(r["params"]),
                           ", ".join(f"{k} {v['bytes']:,}" for k, v in r["by_dtype"].items()) or "not located")
        else:
            lt = Table("const", "element type", "shape", "offset", "bytes", "shared by", title=title)
            for r in rows:
                lt.add_row(r["const"], r["element_type"], str(r["shape"]), _mb(r["offset"]), _mb(r["bytes"]),
                           str(r["shared_by"]))
        sys.stdout.write(lt.render())
