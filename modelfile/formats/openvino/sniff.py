"""Is it an OpenVINO IR? Kept free of imports so the registry can ask cheaply."""

from __future__ import annotations

from pathlib import Path


def sniff(path: Path, head: bytes) -> int:
    """10 for XML text, 5 for any ``.xml`` file (so a broken one gets the IR reader's error)."""
    if head[:4] == b"\xdd\x85\x76\x00":
        return 0
    if head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        return 10
    if path.suffix.lower() == ".xml":
        return 5
    return 0
