"""Fixtures that start real servers on 127.0.0.1 for the tests and stop them afterwards.

PostgreSQL is the local server (DATABASE_URL); pytest-django creates its own test database.
"""

import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.utils import translation

from tests.servers.ftp import FtpServer
from tests.servers.s3 import S3Server
from tests.servers.smtp import SmtpServer

ARTIFACTS = Path(__file__).parent / "artifacts"
DOCS = Path(__file__).resolve().parents[1] / "docs"


@pytest.fixture(autouse=True)
def _isolated_var_dir(settings, tmp_path):
    """Local files (media, mail, remote-log demo folder) go to a per-test folder."""
    settings.VAR_DIR = tmp_path / "var"
    settings.MEDIA_ROOT = tmp_path / "var" / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": settings.MEDIA_ROOT},
        },
    }


@pytest.fixture(autouse=True)
def _tasks_run_inline():
    """django-q2 tasks run in the test's own process unless a test starts a real cluster."""
    from django_q.conf import Conf

    previous, Conf.SYNC = Conf.SYNC, True
    yield
    Conf.SYNC = previous


@pytest.fixture(autouse=True)
def _default_language():
    """Each test starts in the site's default language: a request through LocaleMiddleware (or a
    task rendering a payee's mail) leaves its language active in the thread after it returns."""
    translation.activate(django_settings.LANGUAGE_CODE)
    yield
    translation.deactivate()


@pytest.fixture
def open_tmp_path() -> Iterator[Path]:
    """A temporary folder directly under the system's temp folder, for what another user must reach:
    as root the embedded PostgreSQL runs as its own user, and pytest keeps /tmp/pytest-of-root
    private (it resets the mode at every start, also under another run's feet)."""
    folder = Path(tempfile.mkdtemp(prefix="test-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def ftp_server_factory(tmp_path) -> Iterator:
    """Start as many FTP servers as a test needs: factory(name, directory='')."""
    servers = []

    def start(name: str = "ftp", directory: str = "") -> FtpServer:
        server = FtpServer(tmp_path / name, directory)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


@pytest.fixture
def inbound_ftp(ftp_server_factory, settings) -> FtpServer:
    server = ftp_server_factory("inbound-ftp", "incoming")
    settings.INGESTION_FTP_URL = server.url
    return server


@pytest.fixture
def outbound_ftp(ftp_server_factory, settings) -> FtpServer:
    server = ftp_server_factory("outbound-ftp", "outgoing")
    settings.SESSIONS_FTP_URL = server.url
    return server


@pytest.fixture
def smtp_server(settings) -> Iterator[SmtpServer]:
    """A real SMTP server; Django's SMTP backend is pointed at it."""
    server = SmtpServer()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = server.port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    yield server
    server.close()


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    server = S3Server()
    yield server
    server.close()


@pytest.fixture
def s3_storage(s3_server, settings, request):
    """A fresh bucket on the moto server, made Django's default storage for this test."""
    # S3 bucket names allow only lowercase letters, digits and hyphens (no "[" from parametrize ids).
    slug = re.sub(r"[^a-z0-9]+", "-", request.node.name.lower())[:40].strip("-")
    bucket = f"test-{slug}-{os.urandom(3).hex()}"
    s3_server.client().create_bucket(
        Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-central-1"}
    )
    settings.AWS_STORAGE_BUCKET_NAME = bucket
    settings.STORAGES = {**settings.STORAGES, "default": s3_server.storage_settings(bucket)}
    return bucket


@pytest.fixture
def ssh_server(tmp_path) -> Iterator:
    from tests.servers.ssh import SshServer

    server = SshServer(tmp_path / "ssh")
    yield server
    server.close()


@pytest.fixture(scope="session")
def browser() -> Iterator:
    """Headless Debian Chromium driven by Playwright (never a downloaded browser build)."""
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path="/usr/bin/chromium",
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, live_server) -> Iterator:
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1100, "height": 800})
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def docs_screenshots(artifacts_dir) -> Path:
    """Where a test puts a screenshot the README shows: docs/ with UPDATE_DOCS_SCREENSHOTS=1, else
    tests/artifacts/ (so a test run never rewrites the committed pictures)."""
    return DOCS if os.environ.get("UPDATE_DOCS_SCREENSHOTS") == "1" else artifacts_dir


@pytest.fixture
def make_user(db):
    """make_user('name', groups=['operators'], staff=False) → a user with password 'pw-<name>-123'."""
    from django.contrib.auth.models import Group, User

    def make(username: str, *, groups: list[str] = (), staff: bool = False) -> User:
        user = User.objects.create_user(username, password=f"pw-{username}-123", is_staff=staff)
        # Transactional tests flush the groups the data migration made, so make sure they exist.
        user.groups.set([Group.objects.get_or_create(name=name)[0] for name in groups])
        return user

    return make


@pytest.fixture
def api_client(db, make_user):
    """A Django test client that sends a valid Bearer token: api_client(user=None, scopes=all)."""
    from django.test import Client

    from project.tokens import ALL_SCOPES, issue_api_token

    def make(user=None, scopes=ALL_SCOPES) -> Client:
        user = user or make_user("api-user", groups=["back-office"])
        _, raw = issue_api_token(user=user, scopes=scopes)
        return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")

    return make
