"""Is it an ncnn param? Kept free of imports so the registry can ask cheaply."""

from __future__ import annotations

from pathlib import Path

#: the first word of a binary ``.param.bin`` (ncnn's magic 7767517, little-endian)
BINARY_MAGIC = b"\xdd\x85\x76\x00"


def is_binary(head: bytes) -> bool:
    """Whether ``head`` starts a binary ``.param.bin``."""
    return head[:4] == BINARY_MAGIC


def sniff(path: Path, head: bytes) -> int:
    """10 for a binary param or a text one starting with the magic; 1 for anything else that is not XML."""
    if is_binary(head):
        return 10
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped.startswith(b"<") or path.suffix.lower() == ".xml":
        return 0
    if stripped.startswith(b"7767517"):
        return 10
    return 1  # errors about a text param read best as ncnn's ("bad magic")
