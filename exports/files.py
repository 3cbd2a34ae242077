"""The public exports area of the default storage: every name is confined to EXPORTS_PREFIX."""

import posixpath
import re

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from project.api import BadRequest

SUMMARY_NAME = "incoming-summary-list.json"
_ALLOWED = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._()+@,=-]*$")


def storage_key(name: object) -> str:
    """The storage key of public file `name`; BadRequest for anything that could leave the prefix."""
    if not isinstance(name, str) or not name.strip():
        raise BadRequest("filename is required")
    parts = name.split("/")
    if len(name) > 200 or not all(_ALLOWED.match(part) and part not in {".", ".."} for part in parts):
        raise BadRequest(f"Invalid filename {name!r}: use letters, digits, spaces and . _ - ( ) only")
    key = posixpath.join(settings.EXPORTS_PREFIX, name)
    if posixpath.normpath(key) != key.rstrip("/") or not key.startswith(settings.EXPORTS_PREFIX):
        raise BadRequest(f"Invalid filename {name!r}")
    return key


def put(key: str, content: bytes) -> None:
    """Write `content` at exactly `key`, replacing what is there."""
    # FileSystemStorage renames on conflict instead of overwriting, so make room first.
    if default_storage.exists(key):
        default_storage.delete(key)
    saved = default_storage.save(key, ContentFile(content))
    if saved != key:
        raise RuntimeError(f"storage wrote {saved!r} instead of {key!r}")


def read(key: str) -> bytes | None:
    if not default_storage.exists(key):
        return None
    with default_storage.open(key, "rb") as handle:
        return handle.read()


def exists(key: str) -> bool:
    return default_storage.exists(key)


def delete(key: str) -> None:
    default_storage.delete(key)


def summary_key() -> str:
    return posixpath.join(settings.EXPORTS_PREFIX, SUMMARY_NAME)
