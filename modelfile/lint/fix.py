"""``modelfile lint --fix``: repair what can be repaired without changing what the file means.

Only the header counts (NCNN001-NCNN004) and SherpaMetaData values the encoder graph
contradicts (SHERPA013, rewritten with the graph's values) are fixed. Layer lines that follow the
declared layers are counted in (the usual cause is a layer added by hand, e.g.
SherpaMetaData, without bumping the count: ncnn silently dropped the last layer).
The text goes through the ncnn writer, so every layer line stays byte-identical
and only line 2 changes.
"""

from __future__ import annotations

from ..formats.ncnn.reader import read_text
from ..formats.ncnn.writer import to_text
from ..sherpa.graphfix import fix_meta_values
from .rules_ncnn import header_position, read_whole
from .source import NcnnFile

__all__ = ["FIXABLE", "fix_text"]

#: rule codes --fix repairs
FIXABLE = frozenset({"NCNN001", "NCNN002", "NCNN003", "NCNN004", "SHERPA013"})


def fix_text(text: str, path: str = "") -> tuple[str, list[str]]:
    """The fixed text of an ncnn ``.param`` and a description of each change (empty: nothing to fix).

    Raises :class:`~modelfile.errors.ModelfileError` for files the reader refuses.
    """
    graph, doc = read_text(text, path, strict=False)
    f = NcnnFile(path, graph, doc)
    lineno = header_position(f)[0]
    declared = (doc.declared_layers, doc.declared_blobs)
    graph, doc = read_whole(f)
    n_layers, n_blobs = len(graph.nodes), len(graph.values())
    changes = []
    if (n_layers, n_blobs) != declared:
        doc.true_counts = True  # the writer renders the counts line from the graph
    if n_layers != declared[0]:
        changes.append(f"line {lineno}: layer count {declared[0]} -> {n_layers}")
    if n_blobs != declared[1]:
        changes.append(f"line {lineno}: blob count {declared[1]} -> {n_blobs}")
    changes += fix_meta_values(graph)  # SHERPA013: meta values the graph contradicts
    if not changes:
        return text, []
    return to_text(graph), changes
