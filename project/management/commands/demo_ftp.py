"""A loopback FTP server for the demo (pyftpdlib), standing in for both customer FTP servers.

It also plays the receiver: every file uploaded to /outbound is "read" and a line matching
SESSIONS_LOG_PATTERN's default is appended to the demo remote log (SESSIONS_LOG_FS_URL).
"""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand


def demo_server(port: int):
    """The demo FTP server on 127.0.0.1:`port` serving var/ftp (user demo, password demo)."""
    from pyftpdlib.authorizers import DummyAuthorizer
    from pyftpdlib.handlers import FTPHandler
    from pyftpdlib.ioloop import IOLoop
    from pyftpdlib.servers import FTPServer

    root = settings.VAR_DIR / "ftp"
    for folder in ("inbound", "outbound"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    log_dir = Path(settings.SESSIONS_LOG_FS_URL.removeprefix("osfs://"))
    log_file = log_dir / settings.SESSIONS_LOG_PATH

    def receive(path: Path) -> None:
        if path.parent.name == "outbound" and path.suffix == ".csv":
            rows = max(path.read_bytes().count(b"\n") - 1, 0)
            log_dir.mkdir(parents=True, exist_ok=True)
            with log_file.open("a") as log:
                log.write(f"READ {path.name} records={rows}\n")

    class DemoReceiver(FTPHandler):
        def on_file_received(self, file):
            receive(Path(file))

        def ftp_RNTO(self, path):
            # The session run uploads to a temporary name and renames it: the rename is the
            # moment the file is complete.
            renamed = super().ftp_RNTO(path)
            if renamed:
                receive(Path(renamed[1]))
            return renamed

    authorizer = DummyAuthorizer()
    authorizer.add_user("demo", "demo", str(root), perm="elradfmwMT")
    DemoReceiver.authorizer = authorizer
    # A loop of its own, so demo_setup can close its short-lived server from another thread.
    return FTPServer(("127.0.0.1", port), DemoReceiver, ioloop=IOLoop())


class Command(BaseCommand):
    help = "Serve var/ftp on 127.0.0.1 (user demo, password demo) until interrupted."

    def add_arguments(self, parser):
        parser.add_argument(
            "--port",
            type=int,
            default=settings.DEMO_FTP_PORT,
            help="port on 127.0.0.1 (default: %(default)s, from DEMO_FTP_PORT, which the FTP URLs use)",
        )

    def handle(self, *args, port: int, **options):
        server = demo_server(port)
        self.stdout.write(f"demo FTP on ftp://demo:demo@127.0.0.1:{port}/ serving {settings.VAR_DIR / 'ftp'}")
        server.serve_forever()
