"""Presigned uploads straight to the S3 storage (the client sends the body to S3, never to us).
Signing is local (no request to S3); it needs the storage to be S3 and its credentials.

Presigned POST rather than PUT: its signed policy carries a `content-length-range`, so S3 itself
refuses a body over the limit (a PUT URL cannot bound the size). Always Signature Version 4: the
storage is configured with `signature_version="s3v4"` (settings), and the policy is refused here if
the client would sign it any other way (boto3 falls back to the deprecated SigV2 for some regions).
"""

from botocore.exceptions import BotoCoreError, ClientError
from django.core.files.storage import default_storage

from project import storage

SIGV4 = "s3v4"


def presigned_post(key: str, *, expires: int, max_bytes: int) -> dict | None:
    """`{"url", "fields"}`: the client POSTs multipart/form-data with `fields` followed by the file
    (field `file`) to `url` within `expires` seconds, at most `max_bytes` long; None when the
    storage is local files (then there is nothing to presign)."""
    if not storage.is_s3():
        return None
    client = default_storage.connection.meta.client
    if client.meta.config.signature_version != SIGV4:
        raise storage.Unavailable(
            f"storage misconfigured: uploads must be signed with {SIGV4}, "
            f"not {client.meta.config.signature_version!r} (STORAGES signature_version)"
        )
    try:
        return client.generate_presigned_post(
            Bucket=default_storage.bucket_name,
            Key=key,
            Conditions=[["content-length-range", 1, max_bytes]],
            ExpiresIn=expires,
        )
    except (BotoCoreError, ClientError) as exc:
        raise storage.Unavailable(
            f"storage unavailable: could not sign an upload for {key!r} ({exc})"
        ) from exc
