"""An in-process FTP server (pyftpdlib) serving a temporary folder."""

import threading
from pathlib import Path

from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import FTPHandler
from pyftpdlib.ioloop import IOLoop
from pyftpdlib.servers import ThreadedFTPServer

from tests.servers import free_port


class FtpServer:
    user = "tester"
    password = "secret-pw"

    def __init__(self, root: Path, directory: str = "", port: int | None = None):
        self.root = root
        self.directory = directory.strip("/")
        (root / self.directory).mkdir(parents=True, exist_ok=True)
        authorizer = DummyAuthorizer()
        authorizer.add_user(self.user, self.password, str(root), perm="elradfmwMT")
        handler = type("Handler", (FTPHandler,), {"authorizer": authorizer, "banner": "test ftp"})
        handler.passive_ports = None
        self.port = port or free_port()
        # An IOLoop of its own: by default every server shares IOLoop.instance(), so two servers in one
        # test (inbound and outbound) had two threads polling one loop, and closing one closed both.
        self.server = ThreadedFTPServer(("127.0.0.1", self.port), handler, ioloop=IOLoop())
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"timeout": 0.2}, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"ftp://{self.user}:{self.password}@127.0.0.1:{self.port}/{self.directory}"

    @property
    def folder(self) -> Path:
        """The served directory on disk, where tests drop or inspect files."""
        return self.root / self.directory

    def close(self) -> None:
        self.server.close_all()
        self.thread.join(timeout=5)
