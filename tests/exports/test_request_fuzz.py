"""Fuzzed export requests (issue 8): arbitrary bodies and query strings for POST/DELETE
/api/exports/export and GET/POST/DELETE /api/exports/files never answer a 500, and never write or
delete an object outside EXPORTS_PREFIX. Runs against the moto S3 server and the fake Moneybird."""

import json
from dataclasses import dataclass
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

pytestmark = pytest.mark.django_db

# Objects next to the exports area that no request may touch; "exports" and "exports-evil/" share
# the prefix's characters without being inside it.
OUTSIDE = {
    "secret.txt": b"secret",
    "exports": b"bare name",
    "exports-evil/x.txt": b"evil twin",
    "other/exports/y.txt": b"nested",
}
FUZZ = settings(
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
nasty_names = st.sampled_from(
    [
        "../secret.txt",
        "../../secret.txt",
        "/secret.txt",
        "exports/../secret.txt",
        "a/../../secret.txt",
        "..\\secret.txt",
        "%2e%2e/secret.txt",
        "..",
        ".",
        "a/./b",
        "a//b",
        "./x",
        "~/x",
        "C:\\x",
        "x\x00y",
        "name.txt\n",
        "ünïcødé.txt",
        "secret.txt",
        "x" * 300,
    ]
)
path_like = st.lists(
    st.sampled_from(["..", ".", "", "a", "secret.txt", "exports", "ü", "\\", "%2e", " ", "\t"]),
    min_size=1,
    max_size=5,
).map("/".join)
filenames = st.one_of(nasty_names, path_like, st.text(max_size=40))
exts = st.one_of(
    st.sampled_from(["", "q4", "week 45", "a/b", "../x", "a..b", "..", "x\\y", "q4\n", "\x00", "ü", "é/è"]),
    path_like,
    st.text(max_size=60),
)
safe_names = st.from_regex(
    r"[A-Za-z0-9][A-Za-z0-9 ._-]{0,12}(/[A-Za-z0-9][A-Za-z0-9._-]{0,8})?", fullmatch=True
)
safe_exts = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9 _()-]{0,10}", fullmatch=True)
junk_ids = st.one_of(st.integers(), st.text(max_size=8), st.none(), st.booleans(), st.floats(), json_values)
raw_bodies = st.one_of(
    st.binary(max_size=40),
    st.sampled_from([b"", b"null", b"{", b"[]", b'"x"', b"1" * 5000, b"[" * 50_000, b'{"ids": [1e999]}']),
)


@dataclass
class FuzzEnv:
    client: object
    bucket: object
    ids: list[str]
    files: list[str]

    def outside(self) -> dict[str, str]:
        """ETag of every object outside the exports area (changes with its content)."""
        listing = self.bucket().get("Contents", [])
        return {item["Key"]: item["ETag"] for item in listing if not item["Key"].startswith("exports/")}


@pytest.fixture
def fuzz_env(moneybird, api_client, make_user, s3_server, s3_storage):
    s3 = s3_server.client()
    for key, content in OUTSIDE.items():
        s3.put_object(Bucket=s3_storage, Key=key, Body=content)
    client = api_client(make_user("staff", staff=True))  # staff: every method reaches its handler
    ids = [moneybird.add()["id"], moneybird.add("receipt")["id"], moneybird.add()["id"]]
    client.get("/api/exports/sync")
    name = client.post("/api/exports/export", {"ids": ids[:1]}, content_type="application/json")[
        "X-Export-File"
    ]
    env = FuzzEnv(
        client, lambda: s3.list_objects_v2(Bucket=s3_storage), ids, [name, "incoming-summary-list.json"]
    )
    env.before = env.outside()
    assert set(env.before) == set(OUTSIDE)
    return env


def draw_request(data, env: FuzzEnv) -> tuple[str, str, bytes]:
    """(method, path with query string, body) of one fuzzed request: mostly plausible, often junk."""
    # env.files grows as the run writes files; an index keeps the strategy itself the same each time.
    known_files = st.integers(0, 999).map(lambda index: env.files[index % len(env.files)])
    names = st.one_of(safe_names, known_files, known_files, filenames)
    filename = names | names | json_values
    known_ids = st.lists(st.sampled_from(env.ids), min_size=1, max_size=3)
    ids = st.one_of(
        known_ids,
        known_ids,
        st.lists(st.one_of(st.sampled_from(env.ids), junk_ids), min_size=1, max_size=5),
        json_values,
    )
    plausible = {
        ("POST", "/api/exports/export"): st.fixed_dictionaries(
            {"ids": ids},
            optional={
                "ext": st.one_of(safe_exts, safe_exts, exts, json_values),
                "noLog": st.booleans() | json_values,
            },
        ),
        ("DELETE", "/api/exports/export"): st.fixed_dictionaries({"filename": filename}),
        ("GET", "/api/exports/files"): st.just(None),
        ("POST", "/api/exports/files"): st.fixed_dictionaries(
            {"filename": filename, "data": st.text(max_size=20) | json_values},
            optional={"encoding": st.just("base64") | st.text(max_size=8)},
        ),
        ("DELETE", "/api/exports/files"): st.fixed_dictionaries({"filename": filename}),
    }
    method, path = data.draw(st.sampled_from(sorted(plausible)))
    plausible_body = plausible[method, path].map(json.dumps).map(str.encode)
    body = data.draw(
        st.one_of(
            plausible_body,
            plausible_body,
            plausible_body,
            json_values.map(json.dumps).map(str.encode),
            raw_bodies,
        )
    )
    only_filename = st.lists(st.tuples(st.just("filename"), names), min_size=1, max_size=1)
    pairs = data.draw(
        st.one_of(
            st.just([]),
            only_filename,
            only_filename,
            st.lists(
                st.tuples(st.sampled_from(["filename", "ids", "ext"]) | st.text(max_size=5), names),
                max_size=3,
            ),
        )
    )
    return method, f"{path}?{urlencode(pairs)}" if pairs else path, body


def fuzz_one(env: FuzzEnv, data) -> None:
    method, path, body = draw_request(data, env)
    response = env.client.generic(method, path, data=body, content_type="application/json")
    content = b"".join(response.streaming_content) if response.streaming else response.content
    event(f"{method} {path.partition('?')[0]} -> {response.status_code}")
    assert response.status_code < 500, (method, path, body, content[:300])
    if response.status_code >= 400:
        assert "error" in json.loads(content)
    elif method == "POST":
        # Later requests may read or delete what this one wrote.
        env.files.append(response.get("X-Export-File") or json.loads(content)["filename"])
    assert env.outside() == env.before, (method, path, body)


@settings(FUZZ, max_examples=200)
@given(data=st.data())
def test_fuzzed_export_requests_never_500_nor_touch_files_outside_the_prefix(fuzz_env, data):
    fuzz_one(fuzz_env, data)


@pytest.mark.slow
@settings(FUZZ, max_examples=3000)
@given(data=st.data())
def test_thousands_of_fuzzed_export_requests_never_500_nor_touch_files_outside_the_prefix(fuzz_env, data):
    fuzz_one(fuzz_env, data)


@pytest.mark.parametrize(
    "body",
    [b"1" * 5000, b"[" * 50_000, b'{"ids": [' + b"9" * 5000 + b"]}"],
    ids=["long-number", "deep", "long-id"],
)
def test_unparseable_json_bodies_are_400(client_api, s3_storage, body):
    for method, path in [("POST", "/api/exports/export"), ("POST", "/api/exports/files")]:
        response = client_api.generic(method, path, data=body, content_type="application/json")
        assert response.status_code in {400, 403} and "error" in response.json()
