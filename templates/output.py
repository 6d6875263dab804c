"""Atomic file output: a crash or a locked target never leaves a half-written file.

Workbooks are also guarded against overwriting a user's work: :func:`save_workbook`
refuses (unless :func:`allow_overwrite` was called, ``build.py --force``) a workbook that is
open in Excel or LibreOffice (their lock file ``~$name.xlsx`` / ``.~lock.name.xlsx#`` lies
beside it) or that was changed after the generator last wrote it (its size, time and
SHA-256 are kept in ``.build-manifest.json`` in the output folder).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import io
import json
import os
import stat
import tempfile
from pathlib import Path

__all__ = ["OutputError", "OverwriteRefused", "atomic_write_bytes", "atomic_write_text",
           "save_workbook", "workbook_bytes", "check_overwrite", "check_out_dir",
           "record_output", "allow_overwrite", "MANIFEST"]

#: File in the output folder recording what the generator last wrote there.
MANIFEST = ".build-manifest.json"
_FORCE = False


class OutputError(OSError):
    """A file could not be written; the message names the file and the reason."""


class OverwriteRefused(OutputError):
    """A workbook is open or was edited since the last build; ``--force`` overrides."""


def allow_overwrite(force: bool = True) -> None:
    """Let :func:`save_workbook` overwrite open or edited workbooks (``build.py --force``)."""
    global _FORCE
    _FORCE = bool(force)


def lock_files(path: str | os.PathLike) -> list[Path]:
    """The Excel (``~$name``) and LibreOffice (``.~lock.name#``) lock files beside ``path``."""
    p = Path(path)
    candidates = [p.with_name("~$" + p.name), p.with_name(f".~lock.{p.name}#")]
    return [c for c in candidates if c.exists()]


def _manifest(folder: Path) -> dict:
    try:
        data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def check_overwrite(path: str | os.PathLike, force: bool | None = None) -> None:
    """Raise :class:`OverwriteRefused` if writing ``path`` could destroy someone's work.

    Refused: a lock file beside it (open in Excel or LibreOffice), or content that differs
    from what the generator last recorded in the folder's manifest (edited since). A file
    the manifest does not know is overwritten as before.
    """
    if _FORCE if force is None else force:
        return
    p = Path(path)
    locks = lock_files(p)
    if locks:
        raise OverwriteRefused(
            f"{p} is open in Excel or LibreOffice (lock file {locks[0].name}): close it and "
            "build again, or run build.py --force (delete the lock file if nothing has it open)")
    if not p.exists():
        return
    rec = _manifest(p.parent).get(p.name)
    if not isinstance(rec, dict):
        return
    st = p.stat()
    if st.st_size == rec.get("size") and st.st_mtime_ns == rec.get("mtime_ns"):
        return
    if _sha256(p) == rec.get("sha256"):
        return
    when = _dt.datetime.fromtimestamp(st.st_mtime, _dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    raise OverwriteRefused(
        f"{p} was changed after build.py wrote it (modified {when}): save your copy under "
        "another name, or run build.py --force to overwrite it")


def check_out_dir(folder: str | os.PathLike, force: bool | None = None) -> None:
    """:func:`check_overwrite` for every workbook the manifest records or a lock file marks.

    Called before a build writes anything, so a refusal leaves every output as it was.
    """
    d = Path(folder)
    if not d.is_dir():
        return
    names = set(_manifest(d))
    for lock in list(d.glob("~$*.xls*")) + list(d.glob(".~lock.*#")):
        name = lock.name[2:] if lock.name.startswith("~$") else lock.name[len(".~lock."):-1]
        names.add(name)
    problems = []
    for name in sorted(names):
        try:
            check_overwrite(d / name, force)
        except OverwriteRefused as exc:
            problems.append(str(exc))
    if problems:
        raise OverwriteRefused("; ".join(problems))


def record_output(path: str | os.PathLike) -> None:
    """Remember ``path``'s size, time and SHA-256 in its folder's manifest."""
    p = Path(path)
    st = p.stat()
    data = _manifest(p.parent)
    data[p.name] = {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": _sha256(p),
                    "written": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")}
    atomic_write_text(p.parent / MANIFEST, json.dumps(data, indent=1, sort_keys=True) + "\n")


def _file_mode(target: Path) -> int:
    """The replaced file's permissions, or those a new file gets under the umask."""
    try:
        return stat.S_IMODE(target.stat().st_mode)
    except OSError:
        umask = os.umask(0o022)
        os.umask(umask)
        return 0o666 & ~umask


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
        if hasattr(os, "fchmod"):  # mkstemp makes 0600 files: give the usual permissions
            os.fchmod(fd, _file_mode(target))
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


def workbook_bytes(wb) -> bytes:
    """An openpyxl workbook serialised in memory (nothing touches the disk)."""
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def save_workbook(wb, path: str | os.PathLike) -> Path:
    """Serialise an openpyxl workbook in memory first, then write it atomically.

    Refuses to overwrite a workbook that is open or was edited since the last build (see
    :func:`check_overwrite`), and records what it wrote in the folder's manifest.
    """
    data = wb if isinstance(wb, bytes) else workbook_bytes(wb)
    check_overwrite(path)
    target = atomic_write_bytes(path, data)
    record_output(target)
    return target
