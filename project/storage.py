"""The one module that talks to the file storage: Django's default storage, which is S3
(django-storages + boto3) in production and local files in the demo and most tests.

One error vocabulary: `Missing` (no object under that key; a `NotFound`) and `Unavailable` (the
storage failed: S3 down or refusing, permissions, disk full; a `project.errors.Unavailable`).
Only `project.integrations.s3` (upload signing) touches `default_storage` besides this module.
"""

import posixpath
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from boto3.exceptions import Boto3Error
from botocore.exceptions import BotoCoreError, ClientError
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from project import errors

# What S3 answers for a key that is not there (GetObject, HeadObject).
_MISSING_CODES = {"404", "NoSuchKey", "NotFound"}


class Missing(errors.NotFound):
    """No object under that key."""

    default_code = "file_missing"


class Unavailable(errors.Unavailable):
    """The storage could not be reached or refused the operation; retry later."""

    default_code = "storage_unavailable"


@contextmanager
def _reaching(action: str, key: str) -> Iterator[None]:
    try:
        yield
    except FileNotFoundError:
        raise Missing(f"no file in storage at {key!r}") from None
    except (BotoCoreError, Boto3Error, ClientError, OSError) as exc:
        # OSError: FileSystemStorage (disk full, permissions); the others: S3 unreachable or refusing.
        if isinstance(exc, ClientError) and exc.response.get("Error", {}).get("Code", "") in _MISSING_CODES:
            raise Missing(f"no file in storage at {key!r}") from None
        raise Unavailable(f"storage unavailable: could not {action} {key!r} ({exc})") from exc


def is_s3() -> bool:
    return hasattr(default_storage, "bucket_name")


def save(key: str, content: bytes | BinaryIO) -> None:
    """Store `content` under exactly `key`, replacing what is there."""
    with _reaching("write", key):
        # A storage that renames on conflict (FileSystemStorage) needs room first; S3 overwrites
        # in one PUT, so the old object stays whole until the new one replaces it.
        if default_storage.get_available_name(key) != key:
            default_storage.delete(key)
        stored = default_storage.save(
            key, ContentFile(content) if isinstance(content, bytes) else File(content)
        )
    if stored != key:
        raise RuntimeError(f"storage wrote {stored!r} instead of {key!r}")


def open_stream(key: str) -> BinaryIO:
    """A readable binary stream; on S3 the object body is streamed, never held in memory."""
    with _reaching("read", key):
        if is_s3():
            return default_storage.bucket.Object(key).get()["Body"]
        return default_storage.open(key, "rb")


def read(key: str) -> bytes:
    with _reaching("read", key), default_storage.open(key, "rb") as handle:
        return handle.read()


def download(key: str, target: Path) -> None:
    """Copy the object to the local file `target`, in chunks."""
    with _reaching("read", key), default_storage.open(key, "rb") as source, target.open("wb") as sink:
        for chunk in source.chunks():
            sink.write(chunk)


def size(key: str) -> int:
    with _reaching("measure", key):
        return default_storage.size(key)


def exists(key: str) -> bool:
    with _reaching("look up", key):
        return default_storage.exists(key)


def delete(key: str) -> None:
    """Remove the object; nothing happens when there is none."""
    with _reaching("delete", key):
        default_storage.delete(key)


def listing(prefix: str) -> list[dict]:
    """Every file under `prefix`, sorted: name (relative to `prefix`), size, modified."""
    found = []
    with _reaching("list", prefix):
        folders = [""]
        while folders:
            folder = folders.pop()
            try:
                directories, names = default_storage.listdir(posixpath.join(prefix, folder))
            except FileNotFoundError:  # a local folder nobody has written to yet
                continue
            folders.extend(posixpath.join(folder, name) for name in directories)
            for name in names:
                key = posixpath.join(prefix, folder, name)
                found.append(
                    {
                        "name": posixpath.join(folder, name),
                        "size": default_storage.size(key),
                        "modified": default_storage.get_modified_time(key),
                    }
                )
    return sorted(found, key=lambda item: item["name"])
