"""The project served by gunicorn on a free loopback port, as in production, for tests that need a
real server process (restarts, soak)."""

import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from tests.servers import free_port

ROOT = Path(__file__).resolve().parents[2]


class Gunicorn:
    def __init__(self, *, env: dict, workers: int = 2):
        # whitenoise warns at every start when STATIC_ROOT does not exist.
        Path(env["VAR_DIR"], "static").mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        command = [sys.executable, "-m", "gunicorn", "project.wsgi", "-w", str(workers)]
        command += ["-b", f"127.0.0.1:{self.port}", "--log-level", "warning", "--timeout", "120"]
        # The workers' tracebacks (e.g. while a test has the database down) go to a file, not the test log.
        self.log = Path(env["VAR_DIR"], f"gunicorn-{self.port}.log").open("wb")  # noqa: SIM115 (closed in close())
        self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            time.sleep(0.2)
            try:
                # Any answer will do: /healthz is 503 without a task cluster, and that is fine here.
                requests.get(f"{self.url}/healthz", timeout=2)
                return
            except requests.RequestException:
                continue
        self.close()
        raise RuntimeError("gunicorn did not start within 60 s")

    def worker_pids(self) -> list[int]:
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()
        return [int(pid) for pid in children]

    def rss_bytes(self) -> int:
        """Resident memory of the master and its workers together."""
        total = 0
        for pid in [self.process.pid, *self.worker_pids()]:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        return total

    def close(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()
