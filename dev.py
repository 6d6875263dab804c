"""One entry point for a fresh machine, the same on Linux, macOS and Windows.

    python dev.py build   build the planning workbooks (dist/) and the function reference
    python dev.py test    run the whole test suite
    python dev.py bench   run the benchmark scripts

``./dev`` (bash) and ``dev.cmd`` (Windows Command Prompt and PowerShell) run this file.
Each command creates ``.venv`` and installs the project into it when needed (again after
``pyproject.toml`` changes), then runs ``build.py``, pytest or ``benchmarks/run_all.py``
with that environment's Python; extra arguments are passed on. ``test`` and ``bench`` need
LibreOffice: run as root on Debian/Ubuntu the script installs it, elsewhere it stops at
once with what to install. ``--dry-run`` (before the command) prints the commands instead
of running them. ``VENV`` and ``PYTHON`` in the environment choose another folder and
Python for the virtual environment.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
USAGE = "usage: python dev.py [--dry-run] build|test|bench [args]  (or ./dev, dev.cmd)"
LO_PACKAGES = ["libreoffice-calc-nogui", "poppler-utils", "fonts-crosextra-carlito"]
#: Where the Windows and macOS installers put LibreOffice when it is not on PATH.
SOFFICE_PLACES = [r"C:\Program Files\LibreOffice\program\soffice.exe",
                  "/Applications/LibreOffice.app/Contents/MacOS/soffice"]


def venv_python(venv: Path, windows: bool | None = None) -> Path:
    """The virtual environment's Python: ``Scripts\\python.exe`` on Windows, else ``bin/python``."""
    windows = os.name == "nt" if windows is None else windows
    return venv / "Scripts" / "python.exe" if windows else venv / "bin" / "python"


def _run(cmd: list[str], dry: bool, **kw) -> int:
    print("+ " + " ".join(map(str, cmd)), flush=True)
    return 0 if dry else subprocess.run([str(c) for c in cmd], cwd=ROOT, **kw).returncode


def ensure_venv(dry: bool) -> Path:
    venv = Path(os.environ.get("VENV", ROOT / ".venv"))
    py = venv_python(venv)
    if not py.exists():
        base = os.environ.get("PYTHON", sys.executable)
        if _run([base, "-m", "venv", venv], dry):
            raise SystemExit("dev: could not create the virtual environment "
                             f"({base} -m venv {venv}); install Python 3.10+ with venv")
    marker = venv / ".installed"
    if not marker.exists() or (ROOT / "pyproject.toml").stat().st_mtime > marker.stat().st_mtime:
        quiet = ["-q"]
        if (_run([py, "-m", "pip", "install", *quiet, "--upgrade", "pip"], dry,
                 stdout=subprocess.DEVNULL)
                or _run([py, "-m", "pip", "install", *quiet, "-e", ".[test]"], dry)):
            raise SystemExit("dev: pip could not install the project into " + str(venv))
        if not dry:
            marker.touch()
    return py


def ensure_libreoffice(dry: bool) -> None:
    """Make sure soffice can be found; one installed off PATH (the Windows and macOS
    installers' folders) is handed to the tests as ``LO_SOFFICE``."""
    if shutil.which("soffice") and (os.name == "nt" or shutil.which("pdftoppm")):
        return
    for place in SOFFICE_PLACES:
        if Path(place).exists():
            os.environ.setdefault("LO_SOFFICE", place)  # read by tests/libreoffice.py
            return
    apt = shutil.which("apt-get")
    if apt and hasattr(os, "geteuid") and os.geteuid() == 0:
        print("installing LibreOffice (headless Calc) for the workbook recalculation tests...")
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        if (_run([apt, "update", "-qq"], dry, env=env)
                or _run([apt, "install", "-y", "-qq", "--no-install-recommends", *LO_PACKAGES],
                        dry, env=env, stdout=subprocess.DEVNULL)):
            raise SystemExit("dev: apt-get could not install LibreOffice")
        return
    if os.name == "nt":
        hint = "install it from https://www.libreoffice.org/download/ (or: winget install " \
               "TheDocumentFoundation.LibreOffice) and open a new terminal"
    elif sys.platform == "darwin":
        hint = "install it with: brew install --cask libreoffice"
    else:
        hint = "install it with: sudo apt-get install -y --no-install-recommends " + " ".join(
            LO_PACKAGES)
    raise SystemExit("dev: LibreOffice is needed to recalculate the generated workbooks; " + hint)


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    dry = bool(args) and args[0] == "--dry-run"
    if dry:
        args.pop(0)
    if not args or args[0] not in ("build", "test", "bench"):
        print(USAGE, file=sys.stderr)
        return 2
    cmd, rest = args[0], args[1:]
    py = ensure_venv(dry)
    if cmd == "build":
        return _run([py, "build.py", *rest], dry)
    ensure_libreoffice(dry)
    if cmd == "test":
        return _run([py, "-m", "pytest", *rest], dry)
    return _run([py, "benchmarks/run_all.py", *rest], dry)


if __name__ == "__main__":
    raise SystemExit(main())
