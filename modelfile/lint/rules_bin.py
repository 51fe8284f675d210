"""ncnn ``.bin`` rules: the weights file against the layers of the ``.param``.

The ``.bin`` next to the param (``x.param`` / ``x.param.bin`` -> ``x.bin``) is
walked the way ncnn's ``ModelBin`` reads it (``src/modelbin.cpp``): raw blobs
are bare fp32, tagged blobs start with a flag word (0 fp32, ``0x01306B47``
fp16, ``0x000D4B38`` int8, ``0x0002C056`` fp32, any other non-zero word a
256-entry lookup table). Nothing is reported when the ``.bin`` is missing or a
layer of unknown weight layout hides the offsets.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from ..errors import Diagnostic
from .rules import rule
from .rules_ncnn import _check
from .source import NcnnFile

__all__ = ["NCNN101", "NCNN102", "NCNN103"]

NCNN101 = rule("NCNN101", "bin-short", "error",
               "The .bin is shorter than the layers need: ncnn fails in load_model ('ModelBin read ... failed') "
               "or, with a stale .bin, reads the wrong weights.",
               "the .bin is truncated or belongs to another .param: export again or copy the whole file")
NCNN102 = rule("NCNN102", "bin-surplus", "warning",
               "The .bin is longer than the layers need; ncnn ignores the rest, which usually means the .bin "
               "belongs to another version of the .param.",
               "check that the .bin and the .param come from the same export")
NCNN103 = rule("NCNN103", "bin-unknown-tag", "error",
               "A tagged blob starts with a flag word no ncnn tool writes (0, 1, 0x01306B47 fp16, 0x000D4B38 int8, "
               "0x0002C056); ncnn reads it as a lookup table and every later weight is shifted.",
               "the .bin does not match the .param from this layer on (or a layer before it has wrong size params)")


def _bin_path(path: str) -> Path:
    from ..formats.ncnn import bin_path_for

    return bin_path_for(Path(path))


@_check("NCNN101", "NCNN102", "NCNN103")
def check_bin(f: NcnnFile) -> Iterator[Diagnostic]:
    binp = _bin_path(f.path)
    if not binp.is_file():
        return
    import numpy as np  # (here: most lint runs, and `info`, have no .bin to walk)

    from ..formats.ncnn.weights.spans import audit_bin

    size = binp.stat().st_size
    data = np.memmap(binp, dtype=np.uint8, mode="r") if size else b""
    a = audit_bin(f.graph, data)
    if a.short is not None:
        node, off, need, left = a.short
        yield f.at(NCNN101, node, None,
                   f"{binp.name} ends inside the weights of layer {node.name} ({node.op_type}): it needs {need} "
                   f"bytes at offset {off}, the file has {max(left, 0)} left ({size} bytes in all, "
                   f"{need - max(left, 0)} missing for this layer)")
    elif a.bad_flag is not None:
        node, role, off, word = a.bad_flag
        yield f.at(NCNN103, node, None,
                   f"the {role} blob of layer {node.name} ({node.op_type}) starts with flag word 0x{word:08X} at "
                   f"offset {off} of {binp.name}; ncnn knows 0, 0x01306B47 (fp16), 0x000D4B38 (int8), 0x0002C056 "
                   f"and reads anything else as a lookup table")
    elif a.surplus:
        last = next((n for n in reversed(list(f.graph.nodes)) if f.lineno(n)), None)
        yield f.at(NCNN102, last, None,
                   f"{binp.name} has {a.surplus} bytes after the last layer's weights (the layers read {a.end} of "
                   f"{size} bytes)", col=1 if last is not None and f.lineno(last) else 0)
