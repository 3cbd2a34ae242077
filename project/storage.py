"""The one module that talks to the file storage: Django's default storage, which is S3
(django-storages + boto3) in production and local files in the demo and most tests.

One error vocabulary: `Missing` (no object under that key; a `NotFound`) and
`project.errors.Unavailable` (the storage failed: S3 down or refusing, permissions, disk full).
Nothing else in the project imports `default_storage` or boto3.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from boto3.exceptions import Boto3Error
from botocore.exceptions import BotoCoreError, ClientError
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from project.errors import NotFound, Unavailable

# What S3 answers for a key that is not there (GetObject, HeadObject).
_MISSING_CODES = {"404", "NoSuchKey", "NotFound"}


class Missing(NotFound):
    """No object under that key."""

    default_code = "file_missing"


@contextmanager
def _reaching(action: str, key: str) -> Iterator[None]:
    try:
        yield
    except FileNotFoundError:
        raise Missing(f"no file in storage at {key!r}") from None
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code", "") in _MISSING_CODES:
            raise Missing(f"no file in storage at {key!r}") from None
        raise Unavailable(f"storage refused to {action} {key!r}: {exc}") from exc
    except (BotoCoreError, Boto3Error, OSError) as exc:
        # OSError: FileSystemStorage (disk full, permissions); the others: S3 unreachable.
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


def presigned_put_url(key: str, expires: int) -> str | None:
    """A URL the client PUTs the file body to, or None when the storage is not S3."""
    if not is_s3():
        return None
    with _reaching("sign", key):
        return default_storage.url(key, expire=expires, http_method="PUT")
