"""The public exports area of the storage: every name is confined to EXPORTS_PREFIX (the files
themselves are read and written through project.storage)."""

import posixpath
import re

from django.conf import settings

from project import storage
from project.errors import InvalidInput

SUMMARY_NAME = "incoming-summary-list.json"
_ALLOWED = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._()+@,=-]*")


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


def summary_key() -> str:
    return posixpath.join(settings.EXPORTS_PREFIX, SUMMARY_NAME)


def listing() -> list[dict]:
    """Every file of the public exports area: name (relative to EXPORTS_PREFIX), size, modified."""
    return storage.listing(settings.EXPORTS_PREFIX)
