"""Atomic file output: a crash or a locked target never leaves a half-written file."""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path

__all__ = ["OutputError", "atomic_write_bytes", "atomic_write_text", "save_workbook"]


class OutputError(OSError):
    """A file could not be written; the message names the file and the reason."""


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to a temporary file beside ``path``, then rename it over ``path``.

    The rename is atomic on POSIX and Windows (``os.replace``): readers see the old file
    or the new one, never a mixture. On failure the temporary file is removed and the
    previous ``path`` is left as it was.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except OSError as exc:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        reason = exc.strerror or str(exc)
        if isinstance(exc, PermissionError):
            reason += " (is the file open in Excel or another program?)"
        raise OutputError(f"could not write {target}: {reason}") from exc
    return target


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """:func:`atomic_write_bytes` for UTF-8 text."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def save_workbook(wb, path: str | os.PathLike) -> Path:
    """Serialise an openpyxl workbook in memory first, then write it atomically."""
    buffer = io.BytesIO()
    wb.save(buffer)
    return atomic_write_bytes(path, buffer.getvalue())
