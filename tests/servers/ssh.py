"""A real OpenSSH sshd on a high loopback port, with a throwaway host key and user key."""

import getpass
import shutil
import subprocess
import time
from pathlib import Path

from tests.servers import free_port

SSHD = shutil.which("sshd") or "/usr/sbin/sshd"


def _keygen(path: Path) -> None:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True)


class SshServer:
    """sshd serving SFTP for the current user, who logs in with `key_path`."""

    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.home = workdir / "remote"
        self.home.mkdir(parents=True, exist_ok=True)
        self.user = getpass.getuser()
        self.key_path = workdir / "user_key"
        host_key = workdir / "host_key"
        _keygen(self.key_path)
        _keygen(host_key)
        authorized = workdir / "authorized_keys"
        authorized.write_text(Path(f"{self.key_path}.pub").read_text())
        authorized.chmod(0o600)
        Path("/run/sshd").mkdir(exist_ok=True)  # privilege separation directory
        self.port = free_port()
        config = workdir / "sshd_config"
        config.write_text(
            "\n".join(
                [
                    f"Port {self.port}",
                    "ListenAddress 127.0.0.1",
                    f"HostKey {host_key}",
                    f"AuthorizedKeysFile {authorized}",
                    f"PidFile {workdir / 'sshd.pid'}",
                    "PasswordAuthentication no",
                    "KbdInteractiveAuthentication no",
                    "PermitRootLogin prohibit-password",
                    "UsePAM no",
                    "StrictModes no",
                    "Subsystem sftp internal-sftp",
                    "LogLevel ERROR",
                ]
            )
            + "\n"
        )
        self.process = subprocess.Popen(
            [SSHD, "-D", "-e", "-f", str(config)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        self._wait_until_listening()

    def _wait_until_listening(self) -> None:
        import socket

        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"sshd exited: {self.process.stdout.read().decode()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("sshd did not start listening")

    def fs_url(self, path: Path | None = None) -> str:
        """A PyFilesystem URL (fs.sshfs) for `path` on the server (default: its home folder)."""
        target = (path or self.home).as_posix().lstrip("/")
        return f"ssh://{self.user}@127.0.0.1:{self.port}/{target}?pkey={self.key_path}&timeout=10"

    def close(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
