"""Schemathesis-like checks driven by a hand-written OpenAPI 3 document: requests generated from (and
around) the documented schemas, answers checked against the documented statuses and schemas."""

import json
import re
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, resolve
from django.utils import timezone
from hypothesis import strategies as st
from openapi_schema_validator import OAS30Validator
from openapi_spec_validator import validate as validate_spec

METHODS = ("get", "put", "post", "delete", "patch", "head", "options")
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from(
        ["", "0", "-1", "1e99", "NaN", "2024-13", "../x", "a" * 300, "=1+1", "nul\x00", "\udc80"]
    )
    | st.text(max_size=12)
)
ANY_JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=16,
)
BIG_INTEGERS = st.sampled_from([0, 1, 2**31 - 1, 2**31, 2**63, 10**30])
RAW_BODIES = st.binary(max_size=40) | st.sampled_from([b"", b"null", b"{", b"[" * 5000, b'{"a": 1e999}'])


@dataclass(frozen=True)
class Operation:
    path: str
    method: str
    spec: dict = field(repr=False)
    parameters: tuple = field(repr=False)

    @property
    def statuses(self) -> set[int]:
        return {int(status) for status in self.spec["responses"]}

    def _repr_pretty_(self, printer, cycle) -> None:
        """Hypothesis' failure reports name the operation, not its whole specification."""
        printer.text(f"<{self.method.upper()} {self.path}>")


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, Any]
    headers: dict[str, str]
    body: Any  # bytes, a dict of multipart fields, or None
    content_type: str | None


def inline(value: Any, document: dict) -> Any:
    """`value` with every local $ref replaced by what it points at (the documents are not recursive)."""
    if isinstance(value, dict):
        if "$ref" in value:
            target = document
            for part in value["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            return inline(target, document)
        return {key: inline(item, document) for key, item in value.items()}
    if isinstance(value, list):
        return [inline(item, document) for item in value]
    return value


def operations(document: dict) -> list[Operation]:
    document = inline(document, document)
    found = []
    for path, item in sorted(document["paths"].items()):
        for method in METHODS:
            if method in item:
                spec = item[method]
                parameters = (*item.get("parameters", ()), *spec.get("parameters", ()))
                found.append(Operation(path, method, spec, parameters))
    return found


def check_structure(document: dict, urlconf_names: set[str]) -> None:
    """A valid OpenAPI 3.0 document whose every path is served by one of `urlconf_names`' views."""
    validate_spec(document)
    assert document["openapi"].startswith("3.0")
    assert document["paths"]
    assert "bearerAuth" in document["components"]["securitySchemes"]
    for operation in operations(document):
        assert operation.spec["responses"], operation
        for status, response in operation.spec["responses"].items():
            assert response["description"], (operation, status)
            if int(status) >= 400:
                assert "error" in response["content"]["application/json"]["schema"]["required"]
        sample = re.sub(r"\{\w+\}", "1", operation.path)
        assert resolve(sample).namespace in urlconf_names, sample


def api_routes(urlpatterns: list[URLPattern]) -> set[str]:
    """The API routes of a urls.py in the document's notation: `api/x/<int:id>/` → `/api/x/{id}/`."""
    return {
        "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", str(pattern.pattern))
        for pattern in urlpatterns
        if str(pattern.pattern).startswith("api/") and not str(pattern.pattern).endswith("openapi.json")
    }


def from_schema(schema: dict, names: dict[str, st.SearchStrategy]) -> st.SearchStrategy:
    """Values valid for `schema` (inlined), with `names` overriding properties of that name."""
    if "oneOf" in schema:
        return st.one_of([from_schema(option, names) for option in schema["oneOf"]])
    strategy = st.sampled_from(schema["enum"]) if "enum" in schema else _typed(schema, names)
    return strategy | st.none() if schema.get("nullable") else strategy


def _typed(schema: dict, names: dict[str, st.SearchStrategy]) -> st.SearchStrategy:
    kind = schema.get("type")
    if kind == "object":
        properties = {
            key: names[key] if key in names else from_schema(value, names)
            for key, value in schema.get("properties", {}).items()
        }
        required = set(schema.get("required", ()))
        return st.fixed_dictionaries(
            {key: value for key, value in properties.items() if key in required},
            optional={key: value for key, value in properties.items() if key not in required},
        )
    if kind == "array":
        return st.lists(
            from_schema(schema.get("items", {}), names),
            min_size=schema.get("minItems", 0),
            max_size=max(4, schema.get("minItems", 0)),
        )
    if kind == "integer":
        return st.integers(min_value=schema.get("minimum"), max_value=10**12) | BIG_INTEGERS
    if kind == "number":
        return st.integers(-(10**6), 10**10) | st.floats(allow_nan=False, allow_infinity=False)
    if kind == "boolean":
        return st.booleans()
    if kind == "string":
        if schema.get("format") == "date-time":
            return st.integers(-900, 900).map(
                lambda seconds: (timezone.now() + timedelta(seconds=seconds)).isoformat()
            )
        if "pattern" in schema:
            return st.from_regex(schema["pattern"], fullmatch=True)
        # Hypothesis' text never holds lone surrogates, which JSON escapes can carry.
        return st.text(min_size=schema.get("minLength", 0), max_size=min(schema.get("maxLength", 20), 20)) | (
            st.sampled_from(["nul\x00", "lone \ud9b9"])
        )
    return ANY_JSON


def requests(operation: Operation, names: dict[str, st.SearchStrategy]) -> st.SearchStrategy:
    """Requests for `operation`: documented parameters and bodies, often nudged, sometimes junk."""

    def value(parameter: dict) -> st.SearchStrategy:
        name = parameter["name"]
        return names[name] if name in names else from_schema(parameter["schema"], names)

    path_params = {p["name"]: value(p) for p in operation.parameters if p["in"] == "path"}
    others = {
        (p["in"], p["name"]): value(p) | st.text(max_size=10)
        for p in operation.parameters
        if p["in"] in ("query", "header")
    }
    content = operation.spec.get("requestBody", {}).get("content", {})
    bodies = [st.just((None, None))]
    for content_type, media in content.items():
        documented = from_schema(media["schema"], names)
        if content_type == "application/json":
            bodies += [
                documented.map(lambda body: (json.dumps(body).encode(), "application/json")),
                ANY_JSON.map(lambda body: (json.dumps(body).encode(), "application/json")),
                RAW_BODIES.map(lambda body: (body, "application/json")),
            ]
        elif content_type == "multipart/form-data":
            bodies.append(
                st.fixed_dictionaries({"file": st.binary(max_size=200)}).map(
                    lambda fields: ({"file": SimpleUploadedFile("f.csv", fields["file"])}, None)
                )
            )
        elif content_type == "application/x-www-form-urlencoded":
            bodies.append(documented.map(lambda body: ({k: str(v) for k, v in body.items()}, "form")))
        else:
            bodies.append(st.text(max_size=80).map(lambda text, kind=content_type: (text.encode(), kind)))

    @st.composite
    def build(draw) -> Request:
        url = operation.path
        for name, strategy in path_params.items():
            url = url.replace("{" + name + "}", str(draw(strategy)))
        chosen = draw(st.fixed_dictionaries({}, optional=others))
        body, content_type = draw(st.one_of(bodies))
        headers = {name: _header(str(v)) for (where, name), v in chosen.items() if where == "header"}
        query = {name: v for (where, name), v in chosen.items() if where == "query" and v is not None}
        return Request(operation.method, url, query, headers, body, content_type)

    return build()


def _header(value: str) -> str:
    return "".join(ch for ch in value if ch.isprintable())


def send(client, request: Request):
    """Send `request` through the Django test client."""
    # backslashreplace: a lone surrogate cannot be percent-encoded, and no real client could send it.
    query = urlencode(request.query, errors="backslashreplace")
    url = f"{request.path}?{query}" if query else request.path
    if isinstance(request.body, dict):
        if request.content_type == "form":
            return client.generic(
                request.method.upper(),
                url,
                urlencode(request.body),
                content_type="application/x-www-form-urlencoded",
                headers=request.headers,
            )
        return client.post(url, request.body, headers=request.headers)
    return client.generic(
        request.method.upper(),
        url,
        request.body or b"",
        content_type=request.content_type or "application/octet-stream",
        headers=request.headers,
    )


def check_answer(operation: Operation, response) -> None:
    """Never a 5xx, a documented status, JSON errors, JSON bodies as documented."""
    status = response.status_code
    assert status < 500, (operation, status, response.content[:500])
    assert status in operation.statuses, (operation, status, response.content[:500])
    documented = operation.spec["responses"][str(status)].get("content", {})
    is_json = response.get("Content-Type", "").startswith("application/json")
    if status >= 400:
        assert is_json, (operation, status, response.content[:200])
    if is_json:
        raw = b"".join(response.streaming_content) if response.streaming else response.content
        body = json.loads(raw)
        if "application/json" in documented:  # else a file that happens to be JSON (`*/*`)
            OAS30Validator(documented["application/json"]["schema"]).validate(body)


def check_served_document(client, path: str, document: dict) -> None:
    """The document is public JSON at `path`, and writes to it are refused with a JSON 405."""
    response = client.get(path)
    assert response.status_code == 200
    assert response.json() == document
    for write in (client.post, client.delete):
        refused = write(path)
        assert refused.status_code == 405
        assert "error" in refused.json()
