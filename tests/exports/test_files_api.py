import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_api(api_client, make_user):
    return api_client(make_user("staff", staff=True))


def post_file(client, filename, data, **extra):
    return client.post(
        "/api/exports/files", {"filename": filename, "data": data, **extra}, content_type="application/json"
    )


def test_staff_can_store_read_and_delete_a_public_file(staff_api, s3_keys):
    assert post_file(staff_api, "notes/readme.txt", "hello").status_code == 201
    assert "exports/notes/readme.txt" in s3_keys()

    response = staff_api.get("/api/exports/files", {"filename": "notes/readme.txt"})
    assert response.status_code == 200 and b"".join(response.streaming_content) == b"hello"

    deleted = staff_api.delete(
        "/api/exports/files", {"filename": "notes/readme.txt"}, content_type="application/json"
    )
    assert deleted.status_code == 200
    assert "exports/notes/readme.txt" not in s3_keys()


def test_json_data_and_base64_data_are_stored(staff_api, s3_server, s3_storage):
    post_file(staff_api, "list.json", [{"id": "1"}])
    post_file(staff_api, "blob.bin", "AAEC", encoding="base64")
    s3 = s3_server.client()
    assert s3.get_object(Bucket=s3_storage, Key="exports/list.json")["Body"].read() == b'[{"id": "1"}]'
    assert s3.get_object(Bucket=s3_storage, Key="exports/blob.bin")["Body"].read() == b"\x00\x01\x02"


def test_post_and_delete_are_staff_only(client_api, staff_api, s3_keys):
    post_file(staff_api, "keep.txt", "x")
    assert post_file(client_api, "other.txt", "x").status_code == 403
    assert (
        client_api.delete(
            "/api/exports/files", {"filename": "keep.txt"}, content_type="application/json"
        ).status_code
        == 403
    )
    assert s3_keys() == ["exports/keep.txt"]
    assert client_api.get("/api/exports/files", {"filename": "keep.txt"}).status_code == 200


TRAVERSALS = [
    "../secret.txt",
    "a/../../secret.txt",
    "/etc/passwd",
    "..",
    "a//b",
    "a\\..\\b",
    ".hidden",
    "",
    "a/./b",
    "x\x00y",
    "name.txt\n",
]


@pytest.mark.parametrize("filename", TRAVERSALS)
def test_path_traversal_is_refused(staff_api, client_api, s3_keys, filename):
    assert client_api.get("/api/exports/files", {"filename": filename}).status_code == 400
    assert post_file(staff_api, filename, "x").status_code == 400
    assert (
        staff_api.delete(
            "/api/exports/files", {"filename": filename}, content_type="application/json"
        ).status_code
        == 400
    )
    assert s3_keys() == []


def test_missing_file_is_404(client_api, staff_api, s3_storage):
    assert client_api.get("/api/exports/files", {"filename": "nope.xlsx"}).status_code == 404
    assert (
        staff_api.delete(
            "/api/exports/files", {"filename": "nope.xlsx"}, content_type="application/json"
        ).status_code
        == 404
    )


def test_summary_is_readable_through_files(moneybird, client_api, s3_storage):
    moneybird.add()
    client_api.get("/api/exports/sync")
    response = client_api.get("/api/exports/files", {"filename": "incoming-summary-list.json"})
    assert response["Content-Type"] == "application/json"
    assert len(__import__("json").loads(b"".join(response.streaming_content))) == 1


def test_without_a_filename_the_files_are_listed(staff_api, client_api):
    post_file(staff_api, "notes/readme.txt", "hello")
    post_file(staff_api, "list.json", [1, 2])

    response = client_api.get("/api/exports/files")

    assert response.status_code == 200
    listed = response.json()["files"]
    assert [(item["name"], item["size"]) for item in listed] == [("list.json", 6), ("notes/readme.txt", 5)]
    assert all(item["modified"].startswith("20") for item in listed)
