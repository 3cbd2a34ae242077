"""moto in server mode: a real HTTP S3 endpoint on loopback."""

from moto.server import ThreadedMotoServer

from tests.servers import free_port

ACCESS_KEY = "testing-access-key"
SECRET_KEY = "testing-secret-key"
REGION = "eu-central-1"


class S3Server:
    def __init__(self):
        self.port = free_port()
        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self.server.start()

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client(self):
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            region_name=REGION,
        )

    def storage_settings(self, bucket: str) -> dict:
        """A STORAGES['default'] entry pointing django-storages at this server."""
        return {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {
                "bucket_name": bucket,
                "endpoint_url": self.endpoint_url,
                "region_name": REGION,
                "access_key": ACCESS_KEY,
                "secret_key": SECRET_KEY,
                "file_overwrite": True,
                "default_acl": None,
                "querystring_auth": True,
                "signature_version": "s3v4",
            },
        }

    def close(self) -> None:
        self.server.stop()
