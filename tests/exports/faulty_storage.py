"""A loopback HTTP proxy in front of the moto S3 server that answers chosen requests with a 503.

Lets a test break one step of an operation (say, only the summary write) while the rest reaches
the real S3 server, to check that nothing is left half-written.
"""

import http.client
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

# Headers the proxy sets itself (it re-frames every answer with a Content-Length).
_HOP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "content-length"}


class FaultyStorageProxy:
    def __init__(self, upstream_port: int):
        self.upstream_port = upstream_port
        self.fail: Callable[[str, str], bool] = lambda method, key: False
        self.failed: list[tuple[str, str]] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:
                pass

            def forward(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                key = unquote(urlsplit(self.path).path).lstrip("/").partition("/")[2]
                if proxy.fail(self.command, key):
                    proxy.failed.append((self.command, key))
                    self.send_response(503)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                upstream = http.client.HTTPConnection("127.0.0.1", proxy.upstream_port, timeout=30)
                try:
                    upstream.request(self.command, self.path, body=body, headers=dict(self.headers))
                    answer = upstream.getresponse()
                    data = answer.read()
                finally:
                    upstream.close()
                self.send_response(answer.status)
                for name, value in answer.getheaders():
                    if name.lower() not in _HOP_HEADERS:
                        self.send_header(name, value)
                # A HEAD answer describes the object without carrying it.
                length = answer.getheader("Content-Length", "0") if self.command == "HEAD" else len(data)
                self.send_header("Content-Length", str(length))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = forward

        return Handler

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
