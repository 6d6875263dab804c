"""The set-up commands: ./dev (bash), dev.cmd (Windows) and dev.py behind both."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import dev

ROOT = Path(__file__).resolve().parent.parent


def test_unknown_or_missing_command_prints_the_usage(capsys):
    assert dev.main([]) == 2 and dev.main(["deploy"]) == 2
    assert "build|test|bench" in capsys.readouterr().err


def test_the_virtual_environment_python_on_each_system(tmp_path):
    assert dev.venv_python(tmp_path, windows=True) == tmp_path / "Scripts" / "python.exe"
    assert dev.venv_python(tmp_path, windows=False) == tmp_path / "bin" / "python"


def test_dry_run_shows_what_build_and_test_run(tmp_path, monkeypatch, capsys):
    venv = tmp_path / "venv"
    monkeypatch.setenv("VENV", str(venv))
    monkeypatch.setattr(dev, "ensure_libreoffice", lambda dry: None)
    assert dev.main(["--dry-run", "build", "--out", "x"]) == 0
    lines = capsys.readouterr().out.splitlines()
    py = str(dev.venv_python(venv))
    assert lines[0].endswith(f"-m venv {venv}")  # a fresh machine: the venv is made first
    assert f"{py} -m pip install -q -e .[test]" in lines[-2]
    assert lines[-1] == f"+ {py} build.py --out x"
    assert dev.main(["--dry-run", "test", "-q", "-x"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == f"+ {py} -m pytest -q -x"


def test_missing_libreoffice_stops_with_the_install_command(monkeypatch):
    monkeypatch.setattr(dev.shutil, "which", lambda name: None)
    monkeypatch.setattr(dev, "SOFFICE_PLACES", [])
    monkeypatch.setattr(dev.os, "name", "posix")
    monkeypatch.setattr(dev.sys, "platform", "linux")
    with pytest.raises(SystemExit) as exc:
        dev.ensure_libreoffice(dry=True)
    assert "sudo apt-get install -y --no-install-recommends libreoffice-calc-nogui" in str(
        exc.value)
    monkeypatch.setattr(dev.os, "name", "nt")
    with pytest.raises(SystemExit) as exc:
        dev.ensure_libreoffice(dry=True)
    assert "winget install TheDocumentFoundation.LibreOffice" in str(exc.value)


def test_bash_dev_runs_dev_py():
    proc = subprocess.run(["bash", str(ROOT / "dev")], capture_output=True, text=True,
                          env={"PATH": "/usr/bin:/bin", "PYTHON": sys.executable})
    assert proc.returncode == 2 and "usage: python dev.py" in proc.stderr


def test_dev_cmd_is_a_windows_batch_file_that_runs_dev_py():
    raw = (ROOT / "dev.cmd").read_bytes()
    lines = raw.split(b"\r\n")
    assert b"\n" not in raw.replace(b"\r\n", b"")  # CRLF throughout, as cmd.exe expects
    assert lines[0] == b"@echo off"
    assert b'py -3 "%~dp0dev.py" %*' in raw and b'python "%~dp0dev.py" %*' in raw
    assert b"exit /b %ERRORLEVEL%" in raw
    attributes = (ROOT / ".gitattributes").read_text()
    assert "dev.cmd text eol=crlf" in attributes  # a checkout keeps the CRLF


def test_libreoffice_off_path_is_handed_to_the_tests(tmp_path, monkeypatch):
    soffice = tmp_path / "soffice.exe"
    soffice.write_text("")
    monkeypatch.setattr(dev.shutil, "which", lambda name: None)
    monkeypatch.setattr(dev, "SOFFICE_PLACES", [str(soffice)])
    env = {}  # the test's own environment: LO_SOFFICE must not leak into other tests
    monkeypatch.setattr(dev.os, "environ", env)
    dev.ensure_libreoffice(dry=True)
    assert env["LO_SOFFICE"] == str(soffice)
