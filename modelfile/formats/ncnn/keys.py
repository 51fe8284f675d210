"""The keys ncnn code keeps in ``Node.meta`` and ``Graph.meta``, declared once.

``meta`` dicts hold what a format needs beside the common graph; every key the ncnn code uses is one
of these names (``tests/test_architecture.py`` refuses a string literal key anywhere in the package).
"""

from __future__ import annotations

__all__ = ["ARRAY_STYLE", "BIN_SIG", "BIN_TYPE_INDEX"]

#: Node.meta, ``.param.bin`` layers: (type, bottoms, tops, params) as read, to tell an edited layer
BIN_SIG = "sig"
#: Node.meta, ``.param.bin`` layers: the type index the file used (custom types have no name in it)
BIN_TYPE_INDEX = "type_index"
#: Graph.meta: how this file writes arrays (the Python API renders new params in the file's style)
ARRAY_STYLE = "ncnn.array_style"
