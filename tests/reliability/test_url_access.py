"""Table-driven access check over every URL the project serves (admin aside, which Django guards).

Anonymous users must never get a page or API answer, and a logged-in user without any group must be
refused everywhere except the landing page. New URLs are covered automatically.
"""

import re
import uuid

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

PUBLIC = {
    "/accounts/login/",
    "/accounts/logout/",
    "/healthz",
    "/favicon.ico",  # a redirect to the static icon
    # Django's language switch: it only stores the chosen language and redirects; the login page needs it.
    "/i18n/setlang/",
    # API documentation, fetched by schema tools before they authenticate; it holds no data.
    "/settlement/openapi.json",
    "/api/statements/openapi.json",
    "/api/exports/openapi.json",
    "/api/royalties/openapi.json",
    "/api/docs/",  # the APIs' interactive docs (project.api), offline; they hold no data either
    "/api/docs/sample/",
    "/settlement",  # the catch-all answering SETTLE-02 404 for unknown paths; it serves no data
    # Whether the database answers, for load balancers; no data.
    "/settlement/healthcheck",
    "/settlement/healthcheck/",
    # A payee's invitation link: the token in it is the credential (a wrong or used one answers 404).
    "/portal/invitation/sample/sample/",
}
LOGIN_ONLY = {"/"}  # the landing page only lists what the user may open
SKIP_PREFIXES = ("/admin/", "/static/", "/media/")
CONVERTER_SAMPLES = {"int": "1", "str": "sample", "slug": "sample", "path": "a/b", "uuid": str(uuid.uuid4())}


def converter_sample(route: str) -> str:
    """`settlement/<str:settle_id>/` → `settlement/sample/`."""
    return re.sub(r"<(?:(\w+):)?\w+>", lambda m: CONVERTER_SAMPLES.get(m.group(1) or "str", "sample"), route)


def regex_sample(route: str) -> str | None:
    """A concrete path for the simple regex routes the apps use; None for anything fancier."""
    path = re.sub(r"\(\?P<\w+>[^)]*\)", "sample", route.lstrip("^").rstrip("$"))
    path = re.sub(r"\(\?:[^)]*\)\??", "", path).replace("/?", "/").replace("\\.", ".")
    return None if re.search(r"[\\()\[\]*+?|]", path) else path


def concrete_paths(patterns=None, prefix: str = "") -> list[str]:
    paths = []
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        route = str(entry.pattern)
        if isinstance(entry, URLResolver):
            paths.extend(concrete_paths(entry.url_patterns, prefix + route))
        elif isinstance(entry, URLPattern):
            path = regex_sample(route) if route.startswith("^") else converter_sample(route)
            if path is not None:
                paths.append("/" + prefix + path)
    return sorted({p for p in paths if not p.startswith(SKIP_PREFIXES)})


@pytest.fixture(autouse=True)
def _webhook_secret_configured(settings):
    """Without a secret the webhook is switched off (503); with one it must refuse unsigned calls."""
    settings.STATEMENTS_WEBHOOK_SECRET = "url-table-secret"


GUARDED = [path for path in concrete_paths() if path not in PUBLIC]


def is_denied_to_anonymous(response) -> bool:
    if response.status_code in (401, 403, 405):
        return True
    return response.status_code == 302 and response["Location"].startswith("/accounts/login/")


@pytest.mark.django_db
@pytest.mark.parametrize("path", GUARDED)
@pytest.mark.parametrize("method", ["get", "post", "delete"])
def test_anonymous_is_denied(client, path, method):
    response = getattr(client, method)(path)
    assert is_denied_to_anonymous(response), f"{method.upper()} {path} -> {response.status_code}"


@pytest.mark.django_db
@pytest.mark.parametrize("path", [p for p in GUARDED if p not in LOGIN_ONLY])
@pytest.mark.parametrize("method", ["get", "post", "delete"])
def test_user_without_group_is_denied(client, make_user, path, method):
    client.force_login(make_user("nobody"))
    response = getattr(client, method)(path)
    assert response.status_code in (401, 403, 405), f"{method.upper()} {path} -> {response.status_code}"


def test_url_table_covers_every_app():
    prefixes = {
        "/sessions/",
        "/settlement/",
        "/api/statement_run/",
        "/api/files/salesfiles/",
        "/api/exports/",
    }
    missing = {prefix for prefix in prefixes if not any(path.startswith(prefix) for path in GUARDED)}
    assert not missing, f"no URL found under {missing}"


# Which token scope each API path needs; a token of any other scope (or read-only, for writes)
# must get 403 in that API's own error shape, never an answer.
API_SCOPES = {
    "/settlement/": "settlement",
    "/api/statement_run/": "statements",
    "/api/files/": "statements",
    "/api/exports/": "exports",
    "/api/royalties/": "royalties",
}
TOKEN_GRANTS = [
    "none",
    *(f"{scope}:{access}" for scope in API_SCOPES.values() for access in ("read", "write")),
]
# Moneybird's webhook calls carry their own token in the body; our API tokens play no part there.
TOKEN_IN_BODY = {"/api/exports/webhook/"}
SCOPED = [
    (path, scope)
    for path in GUARDED
    for prefix, scope in API_SCOPES.items()
    if path.startswith(prefix) and path not in TOKEN_IN_BODY
]


def test_scope_table_covers_every_api():
    assert {scope for _, scope in SCOPED} == {"settlement", "statements", "exports", "royalties"}


def error_message(response) -> str:
    error = response.json()["error"]
    return error["message"] if isinstance(error, dict) else error


@pytest.mark.django_db
@pytest.mark.parametrize(("path", "scope"), SCOPED)
@pytest.mark.parametrize("method", ["get", "post", "delete"])
def test_token_is_confined_to_its_scope(client, make_user, path, scope, method):
    """One column per grant: a token without scopes, and read or write on each API."""
    from project.tokens import issue_api_token

    # Staff so that no group rule stands between the token and the handler.
    owner = make_user("machine", staff=True)
    for grant in TOKEN_GRANTS:
        _, raw = issue_api_token(user=owner, scopes=[] if grant == "none" else [grant])
        response = getattr(client, method)(path, HTTP_AUTHORIZATION=f"Bearer {raw}")
        if response.status_code == 405:
            return  # the method is not served at all, whoever asks
        granted_scope, _, access = grant.partition(":")
        allowed = granted_scope == scope and (access == "write" or method == "get")
        where = f"{grant}: {method.upper()} {path} -> {response.status_code}"
        if allowed:
            assert response.status_code not in (401, 403), where
        else:
            assert response.status_code == 403, where
            assert "does not grant" in error_message(response), where
