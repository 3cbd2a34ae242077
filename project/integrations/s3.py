"""Presigned URLs for direct uploads to the S3 storage (the client sends the body to S3, never to
us). Signing is local (no request to S3); it needs the storage to be S3 and its credentials."""

from botocore.exceptions import BotoCoreError, ClientError
from django.core.files.storage import default_storage

from project import storage


def presigned_put_url(key: str, expires: int) -> str | None:
    """A URL the client PUTs the file body to for `expires` seconds, or None when the storage is
    local files (then there is nothing to presign)."""
    if not storage.is_s3():
        return None
    try:
        return default_storage.url(key, expire=expires, http_method="PUT")
    except (BotoCoreError, ClientError) as exc:
        raise storage.Unavailable(
            f"storage unavailable: could not sign an upload URL for {key!r} ({exc})"
        ) from exc
