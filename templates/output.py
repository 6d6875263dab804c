"""Atomic file output: a crash or a locked target never leaves a half-written file.

Workbooks are also guarded against overwriting a user's work: :func:`save_workbook`
refuses (unless :func:`allow_overwrite` was called, ``build.py --force``) a workbook that is
open in Excel or LibreOffice (their lock file ``~$name.xlsx`` / ``.~lock.name.xlsx#`` lies
beside it) or that was changed after the generator last wrote it (its size, time and
SHA-256 are kept in ``.build-manifest.json`` in the output folder).

The manifest is written with the workbooks, never after them alone: before a workbook is
replaced, the manifest already accepts the content about to land (``accepted``: the
hashes of the last contents the generator wrote), so a build killed between the workbook
and its manifest, or two builds at once, never make the next build see an "edited"
workbook. Updates of the manifest are serialised by a lock file. A manifest that cannot be
read refuses every overwrite in its folder until ``--force``: it can no longer tell edited
workbooks from built ones. Temporary files left by a killed build are removed at the start
of the next one.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import io
import json
import os
import stat
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

__all__ = ["OutputError", "OverwriteRefused", "atomic_write_bytes", "atomic_write_text",
           "save_workbook", "workbook_bytes", "check_overwrite", "check_out_dir",
           "record_output", "allow_overwrite", "clean_stale_temps", "MANIFEST",
           "ManifestDamaged"]

#: File in the output folder recording what the generator last wrote there.
MANIFEST = ".build-manifest.json"
_LOCK = ".build-manifest.lock"
#: Hashes of earlier generated contents the manifest keeps accepting per file.
_ACCEPTED = 8
#: A temporary file older than this belongs to no running build (one file takes well under a
#: second to write); a manifest lock older than this was left by a killed build.
STALE_SECONDS = 60.0
_FORCE = False


class OutputError(OSError):
    """A file could not be written; the message names the file and the reason."""


class OverwriteRefused(OutputError):
    """A workbook is open or was edited since the last build; ``--force`` overrides."""


class ManifestDamaged(OverwriteRefused):
    """The folder's manifest cannot be read: every overwrite is refused until ``--force``."""


def allow_overwrite(force: bool = True) -> None:
    """Let :func:`save_workbook` overwrite open or edited workbooks (``build.py --force``)."""
    global _FORCE
    _FORCE = bool(force)


def lock_files(path: str | os.PathLike) -> list[Path]:
    """The Excel (``~$name``) and LibreOffice (``.~lock.name#``) lock files beside ``path``."""
    p = Path(path)
    candidates = [p.with_name("~$" + p.name), p.with_name(f".~lock.{p.name}#")]
    return [c for c in candidates if c.exists()]


def _manifest(folder: Path, force: bool = False) -> dict:
    """The folder's manifest; {} when there is none. A damaged one raises
    :class:`ManifestDamaged` (or reads as {} when ``force``)."""
    path = folder / MANIFEST
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        problem = exc.strerror or str(exc)
    else:
        try:
            data = json.loads(text)
            if isinstance(data, dict) and all(isinstance(r, dict) for r in data.values()):
                return data
            problem = "not a table of files"
        except ValueError as exc:
            problem = f"not valid JSON ({exc.msg}, line {exc.lineno})"
    if force:
        return {}
    raise ManifestDamaged(
        f"{path} is damaged ({problem}), so edited workbooks in {folder} can no longer be told "
        "from built ones: move any workbook you changed out of that folder, then run "
        "build.py --force")


@contextmanager
def _manifest_lock(folder: Path, timeout: float = 10.0):
    """Serialise read-modify-write of the manifest between builds running at once."""
    lock = folder / _LOCK
    deadline = time.monotonic() + timeout
    while True:
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            break
        except FileExistsError:
            try:
                if time.time() - lock.stat().st_mtime > STALE_SECONDS:  # a killed build's
                    lock.unlink(missing_ok=True)
                    continue
            except OSError:
                continue
            if time.monotonic() > deadline:
                raise OutputError(f"another build is writing {folder} (lock file {lock}); "
                                  "wait for it, or delete the lock file if none is running")
            time.sleep(0.05)
    try:
        os.close(fd)
        yield
    finally:
        lock.unlink(missing_ok=True)


def _update_manifest(path: Path, new_sha256: str | None = None) -> None:
    """Record ``path`` in its folder's manifest: with ``new_sha256`` before the file is
    replaced (the content about to land becomes accepted), without it after (its size,
    time and hash as now on disk)."""
    p = Path(path)
    with _manifest_lock(p.parent):
        data = _manifest(p.parent, force=True) if _FORCE else _manifest(p.parent)
        rec = dict(data.get(p.name) or {})
        accepted = [h for h in rec.get("accepted", []) if isinstance(h, str)]
        if isinstance(rec.get("sha256"), str):
            accepted.append(rec["sha256"])
        if new_sha256 is None:
            st = p.stat()
            rec.update(size=st.st_size, mtime_ns=st.st_mtime_ns, sha256=_sha256(p),
                       written=_dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"))
            accepted.append(rec["sha256"])
        else:
            accepted.append(new_sha256)
        rec["accepted"] = list(dict.fromkeys(reversed(accepted)))[:_ACCEPTED][::-1]
        data[p.name] = rec
        atomic_write_text(p.parent / MANIFEST, json.dumps(data, indent=1, sort_keys=True) + "\n")


def clean_stale_temps(folder: str | os.PathLike, older_than: float = STALE_SECONDS) -> list[Path]:
    """Remove the temporary files (``.name.XXXX.tmp``) a killed build left in ``folder``."""
    d = Path(folder)
    removed = []
    if not d.is_dir():
        return removed
    now = time.time()
    for tmp in d.glob(".*.tmp"):
        try:
            if tmp.is_file() and now - tmp.stat().st_mtime > older_than:
                tmp.unlink()
                removed.append(tmp)
        except OSError:
            pass
    return removed


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
    if _sha256(p) in {rec.get("sha256"), *rec.get("accepted", [])}:
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
    if d.exists() and not d.is_dir():
        raise OutputError(f"{d} is a file, not a folder: give --out a folder")
    if not d.is_dir():
        return
    clean_stale_temps(d)
    forced = _FORCE if force is None else force
    names = set(_manifest(d, force=forced))
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
    _update_manifest(Path(path))


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
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    _update_manifest(Path(path), hashlib.sha256(data).hexdigest())  # accepted before it lands
    target = atomic_write_bytes(path, data)
    record_output(target)
    return target
