"""Files on disk: atomic single-file writes, sparse-aware copies, and two-file transactions.

A model is two files that must change together (``.param``/``.xml`` and
``.bin``). :class:`Transaction` stages the new files in a hidden folder beside
the model (``.NAME.modelfile/``), keeps the old pair as hard links there and a
journal until every rename is done. :func:`recover` — run by every command
before it opens a model — rolls an interrupted commit back to the old pair and
removes what a killed run left behind. A SIGKILL at any instant therefore
leaves the old pair, the new pair, or a state the next command rolls back.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .errors import ModelfileError

__all__ = ["Transaction", "atomic_write", "copy_file", "new_file_mode", "recover", "stage_dir_for"]

_STAGE_SUFFIX = ".modelfile"
_JOURNAL = "journal.json"


def _fault(point: str) -> None:
    """Fault injection for the kill tests: ``MODELFILE_FAULT=<point>`` kills the process right here."""
    if os.environ.get("MODELFILE_FAULT") == point:
        import signal

        os.kill(os.getpid(), signal.SIGKILL)


def new_file_mode() -> int:
    """``0666 & ~umask``: the mode a careful Unix tool gives a new file."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextmanager
def atomic_write(path: Path, mode: str = "wb") -> Iterator[Any]:
    """Write to a temp file next to ``path`` and rename it over ``path`` only on success.

    The original is never left half-written; on any error the temp file is
    removed. A new file gets ``0666 & ~umask``; a replaced one keeps its mode.
    """
    path = Path(path)
    directory = path.parent if str(path.parent) else Path(".")
    tmp = directory / f".{path.name}.{os.getpid()}.tmp"
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
    except FileNotFoundError:
        raise ModelfileError("cannot write: no such directory", file=str(path)) from None
    try:
        with os.fdopen(fd, mode) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        try:
            os.chmod(tmp, path.stat().st_mode & 0o7777)
        except OSError:
            pass
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


# -- copying -------------------------------------------------------------------------------------

def _copy_range(fin: int, fout: int, off: int, n: int) -> None:
    done = 0
    cfr = getattr(os, "copy_file_range", None)
    while done < n:
        step = min(n - done, 1 << 26)
        k = 0
        if cfr is not None:
            try:
                k = cfr(fin, fout, step, off + done, off + done)
            except OSError:
                cfr = None
                k = 0
        if k <= 0:
            b = os.pread(fin, min(step, 1 << 24), off + done)
            if not b:
                raise ModelfileError(f"short read while copying at offset {off + done}")
            k = os.pwrite(fout, b, off + done)
        done += k


def copy_fd(fin: int, fout: int, size: int) -> None:
    """Copy ``size`` bytes between open files, skipping holes (``SEEK_DATA``/``SEEK_HOLE``).

    ``copy_file_range`` lets the kernel (or the filesystem, as a reflink) do the work.
    """
    off = 0
    while off < size:
        try:
            start = os.lseek(fin, off, os.SEEK_DATA)
        except OSError as e:
            if e.errno == errno.ENXIO:  # only a hole remains
                break
            start = off
        try:
            end = min(os.lseek(fin, start, os.SEEK_HOLE), size)
        except OSError:
            end = size
        if end <= start:
            break
        _copy_range(fin, fout, start, end - start)
        off = end
    os.ftruncate(fout, size)


def copy_file(src: Path, dst: Path, *, durable: bool = True) -> None:
    """Copy ``src`` to a new file ``dst`` (never a hard link: a later in-place write of one must not
    change the other), keeping sparse files sparse, mode ``0666 & ~umask``.

    ``durable`` flushes the copy to disk before returning (the save gate commits it next).
    """
    fin = os.open(src, os.O_RDONLY)
    try:
        size = os.fstat(fin).st_size
        fout = os.open(dst, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
        try:
            copy_fd(fin, fout, size)
            if durable:
                os.fsync(fout)
        finally:
            os.close(fout)
    finally:
        os.close(fin)


# -- transactions ------------------------------------------------------------------------------

def stage_dir_for(main: Path) -> Path:
    """The hidden folder beside ``main`` where its new files are staged."""
    return main.parent / f".{main.name}{_STAGE_SUFFIX}"


def recover(main: Path) -> str | None:
    """Finish what an interrupted save of ``main`` left: roll back a commit, remove staged files.

    Returns what was done (None: nothing was left over).
    """
    stage = stage_dir_for(Path(main))
    if not stage.is_dir():
        return None
    journal = stage / _JOURNAL
    done = "removed the staging folder of an interrupted save"
    if journal.is_file():
        try:
            entries = json.loads(journal.read_text(encoding="utf-8"))["files"]
        except (OSError, ValueError, KeyError, TypeError):
            entries = None
        if entries is not None:
            for e in entries:
                final = Path(e["final"])
                old = stage / "old" / e["key"]
                if old.exists():
                    os.replace(old, final)
                elif not e.get("existed", True) and final.exists():
                    final.unlink()
            _fsync_dir(Path(main).parent)
            done = "rolled back an interrupted save to the previous files"
    shutil.rmtree(stage, ignore_errors=True)
    return done


def leftovers(main: Path) -> Path | None:
    """The staging folder an interrupted save of ``main`` left, if any."""
    stage = stage_dir_for(Path(main))
    return stage if stage.is_dir() else None


class Transaction:
    """Stage new files for ``main`` (and its companions), then commit them together.

    >>> with Transaction(Path("m.param")) as tx:
    ...     staged = tx.path_for(Path("m.param"))   # write here, verify, then
    ...     tx.commit([Path("m.param"), Path("m.bin")])
    """

    def __init__(self, main: Path) -> None:
        self.main = Path(main)
        self.stage = stage_dir_for(self.main)
        self.new = self.stage / "new"

    def __enter__(self) -> "Transaction":
        directory = self.main.parent if str(self.main.parent) else Path(".")
        if not directory.is_dir():
            raise ModelfileError("cannot write: no such directory", file=str(self.main))
        recover(self.main)
        try:
            self.new.mkdir(parents=True)
        except PermissionError:
            raise ModelfileError("cannot write: permission denied", file=str(self.main)) from None
        return self

    def __exit__(self, *exc: Any) -> None:
        shutil.rmtree(self.stage, ignore_errors=True)

    def path_for(self, final: Path) -> Path:
        """Where the new version of ``final`` is staged (same file name, so a reader finds companions)."""
        return self.new / Path(final).name

    def commit(self, finals: Sequence[Path], *, keep_mode_of: dict[Path, Path] | None = None) -> None:
        """Move the staged versions of ``finals`` into place, all or none.

        A replaced file keeps its mode (and owner where permitted); a new one
        has ``0666 & ~umask``.
        """
        finals = [Path(f) for f in finals]
        old_dir = self.stage / "old"
        old_dir.mkdir(exist_ok=True)
        entries = []
        for k, final in enumerate(finals):
            staged = self.path_for(final)
            key = f"{k}-{final.name}"
            existed = final.exists()
            if existed:
                st = final.stat()
                try:
                    os.chmod(staged, st.st_mode & 0o7777)
                    if os.geteuid() == 0:
                        os.chown(staged, st.st_uid, st.st_gid)
                except OSError:
                    pass
                try:
                    os.link(final, old_dir / key)  # the old version survives the rename as a backup
                except OSError:
                    shutil.copy2(final, old_dir / key)
            with open(staged, "rb+") as f:
                os.fsync(f.fileno())
            entries.append({"final": str(final.resolve() if existed else final.absolute()), "key": key,
                            "existed": existed})
        _fsync_dir(old_dir)
        _fault("staged")
        tmp = self.stage / (_JOURNAL + ".tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            json.dump({"files": entries}, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.stage / _JOURNAL)
        _fsync_dir(self.stage)
        # the journal is in place: from here a kill is rolled back by recover()
        _fault("journal")
        for k, final in enumerate(finals):
            os.replace(self.path_for(final), final)
            _fault(f"rename{k + 1}")
        _fsync_dir(self.main.parent if str(self.main.parent) else Path("."))
        os.unlink(self.stage / _JOURNAL)  # the commit point: the new files stay
        _fsync_dir(self.stage)
        _fault("committed")
