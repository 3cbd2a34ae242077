"""scripts/ensure-system-packages: what `make test` / `make run` do on a machine missing packages.

The checked paths are overridden to point nowhere, so the "missing" branches run without removing
anything from this machine (other test runs use its sshd and Chromium).
"""

import os
import subprocess
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "ensure-system-packages"


def run(purpose: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(SCRIPT), purpose],
        env={**os.environ, **env},
        cwd=SCRIPT.parents[1],
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_nothing_missing_is_silent(tmp_path):
    result = run("test", tmp_path)
    assert result.returncode == 0
    assert result.stderr == ""


def test_not_root_stops_at_once_with_the_one_command(tmp_path):
    result = run(
        "test",
        tmp_path,
        SSHD_BIN=str(tmp_path / "sshd"),
        CHROMIUM_BIN=str(tmp_path / "chromium"),
        ID_U="1000",
    )
    assert result.returncode == 1
    assert (
        "sudo sh -c 'apt-get update && apt-get install -y --reinstall openssh-server chromium'"
        in result.stderr
    )


def test_root_installs_the_missing_packages_with_apt_and_checks_again(tmp_path):
    calls, chromium = tmp_path / "calls", tmp_path / "chromium"
    fake_apt = tmp_path / "apt-get"
    # The fake apt "installs" Chromium where the check looks for it.
    fake_apt.write_text(
        f'#!/bin/sh\necho "$@" >> {calls}\n[ "$1" = install ] && install -m 755 /dev/null {chromium}\nexit 0\n'
    )
    fake_apt.chmod(0o755)
    result = run("test", tmp_path, CHROMIUM_BIN=str(chromium), ID_U="0", APT_GET=str(fake_apt))
    assert result.returncode == 0, result.stderr
    assert calls.read_text().splitlines() == ["update -qq", "install -y -qq --reinstall chromium"]


def test_root_stops_when_apt_did_not_provide_the_program(tmp_path):
    result = run("test", tmp_path, CHROMIUM_BIN=str(tmp_path / "chromium"), ID_U="0", APT_GET="true")
    assert result.returncode == 1
    assert "Still missing after apt-get install: chromium" in result.stderr


def test_the_demo_needs_neither_sshd_nor_chromium(tmp_path):
    result = run(
        "run", tmp_path, SSHD_BIN=str(tmp_path / "sshd"), CHROMIUM_BIN=str(tmp_path / "chromium"), ID_U="1000"
    )
    assert result.returncode == 0
