"""The one place that speaks FTP (stdlib ftplib), for the inbound and the outbound servers.

Endpoints are URLs: `ftp://user:password@host:port/dir` or `ftps://…` for explicit FTPS (AUTH TLS
with a protected data channel). Passive mode always. FTPS verifies the server certificate against
the system CAs, or against `?cafile=/path/ca.pem` for a private CA or a self-signed certificate.
"""

import ftplib
import os
import socket
import ssl
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

# Everything a dropped connection, a refused login or a server error can raise.
ERRORS = (OSError, EOFError, ftplib.Error)


@dataclass(frozen=True)
class FtpEndpoint:
    host: str
    port: int
    user: str
    password: str
    directory: str
    tls: bool
    cafile: str = ""

    @classmethod
    def from_url(cls, url: str) -> "FtpEndpoint":
        parts = urlsplit(url)
        if parts.scheme not in {"ftp", "ftps"}:
            raise ValueError(f"FTP URL must start with ftp:// or ftps://, got {parts.scheme!r}")
        return cls(
            host=parts.hostname or "127.0.0.1",
            port=parts.port or 21,
            user=unquote(parts.username or "anonymous"),
            password=unquote(parts.password or ""),
            directory=unquote(parts.path) or "/",
            tls=parts.scheme == "ftps",
            cafile=parse_qs(parts.query).get("cafile", [""])[0],
        )


def wait_until_reachable(url: str, *, seconds: float) -> bool:
    """Whether the URL's server accepts a TCP connection within `seconds` (tried every 0.2 s)."""
    endpoint = FtpEndpoint.from_url(url)
    deadline = time.monotonic() + seconds
    while True:
        try:
            socket.create_connection((endpoint.host, endpoint.port), timeout=1).close()
            return True
        except OSError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.2)


@contextmanager
def connect(url: str, *, timeout: int = 30) -> Iterator[ftplib.FTP]:
    """Log on, switch to the URL's directory and yield the connection; always closes it."""
    endpoint = FtpEndpoint.from_url(url)
    if endpoint.tls:
        # ftplib's default TLS context verifies nothing; FTPS without verification is not FTPS.
        context = ssl.create_default_context(cafile=endpoint.cafile or None)
        ftp = ftplib.FTP_TLS(context=context, timeout=timeout)
    else:
        ftp = ftplib.FTP(timeout=timeout)
    try:
        ftp.connect(endpoint.host, endpoint.port)
        ftp.login(endpoint.user, endpoint.password)
        if endpoint.tls:
            ftp.prot_p()
        ftp.set_pasv(True)
        if endpoint.directory not in ("", "/"):
            ftp.cwd(endpoint.directory)
        yield ftp
    finally:
        try:
            if ftp.sock is not None:  # None when the server was unreachable: nothing to QUIT
                ftp.quit()
        except ERRORS:
            ftp.close()


def list_names(ftp: ftplib.FTP) -> list[str]:
    """Plain file names in the current directory (an empty directory is not an error)."""
    try:
        return sorted(os.path.basename(name) for name in ftp.nlst())
    except ftplib.error_perm as exc:
        if str(exc).startswith("550"):
            return []
        raise


def download(ftp: ftplib.FTP, name: str, destination: Path) -> int:
    """Download `name` to `destination`; raise if the bytes received differ from the remote size."""
    ftp.voidcmd("TYPE I")
    expected = ftp.size(name)
    with destination.open("wb") as handle:
        ftp.retrbinary(f"RETR {name}", handle.write)
    received = destination.stat().st_size
    if expected is not None and received != expected:
        raise OSError(f"{name}: received {received} bytes, server announced {expected}")
    return received


def delete(ftp: ftplib.FTP, name: str) -> None:
    """Remove `name` from the server."""
    ftp.delete(name)


def upload_atomically(ftp: ftplib.FTP, source: Path, name: str) -> None:
    """Upload under a temporary name, then rename, so the receiver never reads half a file."""
    temporary = f".{name}.part"
    with source.open("rb") as handle:
        ftp.storbinary(f"STOR {temporary}", handle)
    ftp.rename(temporary, name)
