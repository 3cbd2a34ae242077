"""project.storage on local files and on a real S3 endpoint (moto server): one vocabulary,
Missing for an absent key and Unavailable for a failing storage."""

import io

import pytest

from project import storage
from project.errors import NotFound, Unavailable
from project.integrations import s3
from tests.servers import free_port


@pytest.fixture(params=["local", "s3"])
def backend(request):
    if request.param == "s3":
        request.getfixturevalue("s3_storage")
    return request.param


def test_save_replaces_under_exactly_the_key(backend):
    storage.save("a/file.csv", b"first")
    storage.save("a/file.csv", io.BytesIO(b"second"))
    assert storage.read("a/file.csv") == b"second"
    assert storage.size("a/file.csv") == 6
    assert storage.open_stream("a/file.csv").read() == b"second"
    assert storage.exists("a/file.csv")


def test_download_copies_to_a_local_file(backend, tmp_path):
    storage.save("big.bin", b"x" * 200_000)
    storage.download("big.bin", tmp_path / "copy.bin")
    assert (tmp_path / "copy.bin").read_bytes() == b"x" * 200_000


@pytest.mark.parametrize("operation", [storage.read, storage.size, storage.open_stream])
def test_absent_key_is_missing_a_not_found(backend, operation):
    with pytest.raises(storage.Missing) as raised:
        operation("nothing/here")
    assert isinstance(raised.value, NotFound)
    assert raised.value.code == "file_missing"


def test_delete_of_an_absent_key_is_quiet(backend):
    storage.delete("nothing/here")
    storage.save("k", b"1")
    storage.delete("k")
    assert not storage.exists("k")


def test_presigned_post_only_on_s3(backend):
    post = s3.presigned_post("upload/key", expires=60, max_bytes=10)
    assert (post is None) == (backend == "local")
    if post:
        assert post["fields"]["x-amz-algorithm"] == "AWS4-HMAC-SHA256"


@pytest.mark.parametrize(
    "operation",
    [
        lambda: storage.save("k", b"1"),
        lambda: storage.read("k"),
        lambda: storage.exists("k"),
        lambda: storage.delete("k"),
        lambda: storage.open_stream("k"),
    ],
)
def test_unreachable_s3_is_unavailable(s3_storage, s3_server, settings, operation):
    options = {
        **s3_server.storage_settings(s3_storage)["OPTIONS"],
        "endpoint_url": f"http://127.0.0.1:{free_port()}",
    }
    settings.AWS_S3_MAX_ATTEMPTS = 1
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options},
    }
    with pytest.raises(Unavailable):
        operation()


def test_unwritable_local_storage_is_unavailable(settings, tmp_path):
    (tmp_path / "not-a-folder").write_bytes(b"")  # unwritable even for root, unlike permissions
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path / "not-a-folder"},
        },
    }
    with pytest.raises(Unavailable):
        storage.save("sub/k", b"1")
