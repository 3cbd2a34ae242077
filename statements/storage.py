"""The one module that talks to the file storage: Django's default storage, which is S3
(django-storages + boto3) in production and local files in the demo."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import BinaryIO

from botocore.exceptions import BotoCoreError, ClientError
from django.core.files import File
from django.core.files.storage import default_storage


class StorageError(Exception):
    """The storage could not be read or written (S3 down, permissions, disk…)."""


class MissingFile(StorageError):
    """No object under that key."""


@contextmanager
def _storage_errors(key: str) -> Iterator[None]:
    try:
        yield
    except FileNotFoundError:
        raise MissingFile(f"no file in storage at {key}") from None
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if code in ("404", "NoSuchKey", "NotFound"):
            raise MissingFile(f"no file in storage at {key}") from None
        raise StorageError(f"storage error on {key}: {exc}") from exc
    except (BotoCoreError, OSError) as exc:
        raise StorageError(f"storage unavailable while accessing {key}: {exc}") from exc


def is_s3() -> bool:
    return hasattr(default_storage, "bucket_name")


def presigned_put_url(key: str, expires: int) -> str | None:
    """A URL the client PUTs the file body to, or None when the storage is not S3."""
    if not is_s3():
        return None
    with _storage_errors(key):
        return default_storage.url(key, expire=expires, http_method="PUT")


def open_stream(key: str) -> BinaryIO:
    """A readable binary stream; on S3 the object body is streamed, never held in memory."""
    with _storage_errors(key):
        if is_s3():
            return default_storage.bucket.Object(key).get()["Body"]
        return default_storage.open(key, "rb")


def size(key: str) -> int:
    with _storage_errors(key):
        return default_storage.size(key)


def save(key: str, content: BinaryIO) -> None:
    """Store `content` under exactly `key`, replacing what was there."""
    with _storage_errors(key):
        # Local storage would otherwise pick another name instead of overwriting.
        default_storage.delete(key)
        stored = default_storage.save(key, File(content))
    if stored != key:
        raise StorageError(f"storage saved {key} as {stored}")


def delete(key: str) -> None:
    with _storage_errors(key):
        default_storage.delete(key)
