"""Builders shared by the ingestion tests."""

import ipaddress
import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from tests.servers import free_port


def file_name(records: int, *, day: date | None = None, at: str = "093000000") -> str:
    """A valid `Letture…` name for a file with `records` records (the name says records - 1)."""
    day = day or timezone.localdate()
    return f"Letture{day:%Y%m%d}{at}_{records - 1}.txt"


def content(*lines: str, newline: str = "\n") -> bytes:
    return newline.join(lines).encode()


@pytest.fixture
def known_invoices(db):
    """known_invoices(found=[...], past=[...]): rows dated far in the future or the past."""
    from ingestion.models import KnownInvoice

    def make(*, found=(), past=()) -> None:
        KnownInvoice.objects.bulk_create(
            [
                KnownInvoice(invoice_number=n, invoice_date=date(2099, 12, 31), customer_name=f"C {n}")
                for n in found
            ]
            + [KnownInvoice(invoice_number=n, invoice_date=date(2000, 1, 1)) for n in past]
        )

    return make


def local_datetime(*args: int) -> datetime:
    return timezone.make_aware(datetime(*args))


def _self_signed_certificate(folder: Path) -> Path:
    """A throwaway certificate for 127.0.0.1 (key and certificate in one PEM file)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    path = folder / "ftps.pem"
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        + certificate.public_bytes(serialization.Encoding.PEM)
    )
    return path


class FtpsServer:
    """pyftpdlib with explicit TLS required on the control and the data channel."""

    user, password = "tls-user", "tls-secret"

    def __init__(self, root: Path):
        from pyftpdlib.authorizers import DummyAuthorizer
        from pyftpdlib.handlers import TLS_FTPHandler
        from pyftpdlib.servers import ThreadedFTPServer

        self.folder = root / "incoming"
        self.folder.mkdir(parents=True)
        self.certificate = _self_signed_certificate(root)
        authorizer = DummyAuthorizer()
        authorizer.add_user(self.user, self.password, str(root), perm="elradfmwMT")
        handler = type(
            "TlsHandler",
            (TLS_FTPHandler,),
            {
                "authorizer": authorizer,
                "certfile": str(self.certificate),
                "tls_control_required": True,
                "tls_data_required": True,
            },
        )
        self.port = free_port()
        self.server = ThreadedFTPServer(("127.0.0.1", self.port), handler)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"timeout": 0.2}, daemon=True)
        self.thread.start()

    def url(self, *, trust: bool = True) -> str:
        query = f"?cafile={self.certificate}" if trust else ""
        return f"ftps://{self.user}:{self.password}@127.0.0.1:{self.port}/incoming{query}"

    def close(self) -> None:
        self.server.close_all()
        self.thread.join(timeout=5)


@pytest.fixture
def inbound_ftps(tmp_path, settings):
    server = FtpsServer(tmp_path / "ftps")
    settings.INGESTION_FTP_URL = server.url()
    yield server
    server.close()
