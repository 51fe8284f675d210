"""``modelfile info``: the weights section (bytes per storage type, per layer with ``--layers``)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table

__all__ = ["print_weights"]


def _mb(n: int | None) -> str:
    return "" if n is None else f"{n:,}"


def print_weights(out: Console, w: dict[str, Any] | None) -> None:
    """Print ``data["weights"]`` of :func:`modelfile.info.describe` (ncnn or IR)."""
    if not w:
        return
    if "error" in w:
        out.print(f"[bold]weights[/]: cannot be accounted for: {w['error']}")
        return
    ncnn = "by_dtype" in w
    t = Table(title=f"weights: {_mb(w.get('bytes'))} bytes" + (f", {w['params']:,} parameters" if ncnn else ""),
              title_justify="left")
    t.add_column("storage" if ncnn else "element type")
    t.add_column("consts" if not ncnn else "parameters", justify="right")
    t.add_column("bytes", justify="right")
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
    out.print(t)
    rows = w.get("layers") or w.get("consts")
    if rows:
        lt = Table(title="weights per layer" if ncnn else "consts", title_justify="left")
        if ncnn:
            for c in ("layer", "type", "offset", "bytes", "parameters", "storage"):
                lt.add_column(c, justify="right" if c in ("offset", "bytes", "parameters") else "left")
            for r in rows:
                lt.add_row(r["layer"], r["type"], _mb(r["offset"]), _mb(r["bytes"]), _mb(r["params"]),
                           ", ".join(f"{k} {v['bytes']:,}" for k, v in r["by_dtype"].items()) or "not located")
        else:
            for c in ("const", "element type", "shape", "offset", "bytes", "shared by"):
                lt.add_column(c)
            for r in rows:
                lt.add_row(r["const"], r["element_type"], str(r["shape"]), _mb(r["offset"]), _mb(r["bytes"]),
                           str(r["shared_by"]))
        out.print(lt)
