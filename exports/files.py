"""The public exports area of the default storage: every name is confined to EXPORTS_PREFIX, and
every storage failure surfaces as StorageUnavailable (an outage the caller reports, never a 500)."""

import posixpath
import re
from collections.abc import Iterator
from contextlib import contextmanager

from boto3.exceptions import Boto3Error
from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from project.errors import InvalidInput, Unavailable

SUMMARY_NAME = "incoming-summary-list.json"
_ALLOWED = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._()+@,=-]*")
# OSError covers FileSystemStorage (disk full, permissions); the rest are S3 (django-storages).
_STORAGE_ERRORS = (OSError, BotoCoreError, ClientError, Boto3Error)


class StorageUnavailable(Unavailable):
    """The storage could not be reached or refused the operation."""

    default_code = "storage_unavailable"


def storage_key(name: object) -> str:
    """The storage key of public file `name`; InvalidInput for anything that could leave the prefix."""
    if not isinstance(name, str) or not name.strip():
        raise InvalidInput("filename is required", code="invalid_filename")
    parts = name.split("/")
    if len(name) > 200 or not all(_ALLOWED.fullmatch(part) and part not in {".", ".."} for part in parts):
        raise InvalidInput(
            f"Invalid filename {name!r}: use letters, digits, spaces and . _ - ( ) only",
            code="invalid_filename",
        )
    key = posixpath.join(settings.EXPORTS_PREFIX, name)
    if posixpath.normpath(key) != key.rstrip("/") or not key.startswith(settings.EXPORTS_PREFIX):
        raise InvalidInput(f"Invalid filename {name!r}", code="invalid_filename")
    return key


@contextmanager
def _reaching(action: str, key: str) -> Iterator[None]:
    try:
        yield
    except _STORAGE_ERRORS as exc:
        raise StorageUnavailable(f"storage unavailable: could not {action} {key!r} ({exc})") from exc


def put(key: str, content: bytes) -> None:
    """Write `content` at exactly `key`, replacing what is there."""
    with _reaching("write", key):
        # A storage that renames on conflict (FileSystemStorage by default) needs room first; S3
        # overwrites in one PUT, so the old object stays whole until the new one replaces it.
        if default_storage.get_available_name(key) != key:
            default_storage.delete(key)
        saved = default_storage.save(key, ContentFile(content))
    if saved != key:
        raise RuntimeError(f"storage wrote {saved!r} instead of {key!r}")


def read(key: str) -> bytes | None:
    with _reaching("read", key):
        if not default_storage.exists(key):
            return None
        with default_storage.open(key, "rb") as handle:
            return handle.read()


def exists(key: str) -> bool:
    with _reaching("look up", key):
        return default_storage.exists(key)


def delete(key: str) -> None:
    with _reaching("delete", key):
        default_storage.delete(key)


def summary_key() -> str:
    return posixpath.join(settings.EXPORTS_PREFIX, SUMMARY_NAME)


def listing() -> list[dict]:
    """Every file of the public exports area: name (relative to EXPORTS_PREFIX), size, modified."""
    found = []
    with _reaching("list", settings.EXPORTS_PREFIX):
        folders = [""]
        while folders:
            folder = folders.pop()
            try:
                directories, names = default_storage.listdir(posixpath.join(settings.EXPORTS_PREFIX, folder))
            except FileNotFoundError:  # a local folder nobody has written to yet
                continue
            folders.extend(posixpath.join(folder, name) for name in directories)
            for name in names:
                key = posixpath.join(settings.EXPORTS_PREFIX, folder, name)
                found.append(
                    {
                        "name": posixpath.join(folder, name),
                        "size": default_storage.size(key),
                        "modified": default_storage.get_modified_time(key),
                    }
                )
    return sorted(found, key=lambda item: item["name"])
