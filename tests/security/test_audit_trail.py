"""The audit trail: model changes and record_action() land in one append-only table with who,
how, what and a diff; the admin lists it by user, app and date; the bulk tables are not tracked."""

import subprocess
import sys
from pathlib import Path

import pytest
from auditlog.models import LogEntry
from auditlog.registry import auditlog
from django.apps import apps

from project.audit import record_action
from project.models import ApiToken
from project.tokens import issue_api_token
from tests.servers.postgres import database_url_of

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def entries_for(obj) -> list[LogEntry]:
    return list(LogEntry.objects.get_for_object(obj).order_by("timestamp", "pk"))


def test_a_token_issued_and_revoked_in_the_admin_is_recorded_with_its_admin(client, make_user):
    boss = make_user("boss", staff=True)
    boss.is_superuser = True
    boss.save()
    client.force_login(boss)
    owner = make_user("machine")
    client.post(
        "/admin/project/apitoken/add/", {"user": owner.pk, "name": "ci", "settlement_access": "write"}
    )
    token = ApiToken.objects.get()
    client.post(
        f"/admin/project/apitoken/{token.pk}/change/",
        {
            "name": "ci",
            "settlement_access": "write",
            "statements_access": "",
            "exports_access": "",
            "revoked": "on",
        },
    )
    created, revoked = entries_for(token)
    assert created.action == LogEntry.Action.CREATE and created.actor == boss
    assert created.changes_dict["settlement_access"][1] == "write"
    assert "digest" not in created.changes_dict
    assert revoked.changes_dict == {"revoked": [False, True]} and revoked.actor == boss
    assert revoked.additional_data["via"] == "web"
    assert revoked.remote_addr == "127.0.0.1"


def test_record_action_attributes_a_token_request_to_the_tokens_owner(client, make_user, rf):
    from django.http import JsonResponse

    from project.api import ApiAuth

    owner = make_user("machine")
    target = make_user("subject")

    def act(request):
        assert ApiAuth("settlement")(request) == owner  # as the API layer authenticates a call
        record_action("platform.test_action", target=target, changes={"what": "poked"})
        return JsonResponse({})

    _, raw = issue_api_token(user=owner, scopes=["settlement:write"])
    from auditlog.middleware import AuditlogMiddleware
    from django.contrib.auth.models import AnonymousUser

    request = rf.post("/x", HTTP_AUTHORIZATION=f"Bearer {raw}")
    request.user = AnonymousUser()
    assert AuditlogMiddleware(act)(request).status_code == 200
    [entry] = LogEntry.objects.filter(additional_data__event="platform.test_action")
    assert entry.actor == owner
    assert entry.additional_data["via"].startswith("token bo_")
    assert entry.changes_dict == {"what": [None, "poked"]}
    assert entry.object_repr == "subject"


@pytest.mark.django_db(transaction=True)
def test_a_command_is_recorded_as_such(make_user, tmp_path):
    """Through manage.py, as an operator runs it: the entry says which command made the change."""
    make_user("client")

    url = database_url_of()
    result = subprocess.run(
        [sys.executable, "manage.py", "issue_api_token", "client", "--scope", "exports:read"],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "DATABASE_URL": url, "VAR_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    [entry] = LogEntry.objects.filter(content_type__model="apitoken")
    assert entry.additional_data["via"] == "command issue_api_token"
    assert entry.actor is None


def test_bulk_tables_are_never_tracked():
    for label in (
        "ingestion.InvoiceLine",
        "statements.SalesLine",
        "settlement.Aggregate",
        "sessions_app.ProcessedShipment",
    ):
        assert not auditlog.contains(apps.get_model(label)), label


def test_admin_lists_the_trail_by_user_app_and_date_and_cannot_delete(client, make_user):
    boss = make_user("boss", staff=True)
    boss.is_superuser = True
    boss.save()
    record_action("platform.test_action", target=boss, user=boss)
    client.force_login(boss)
    base = "/admin/auditlog/logentry/"
    for query in (
        "",
        f"?actor__id__exact={boss.pk}",
        "?app=auth",
        "?timestamp__gte=2000-01-01+00:00:00%2B00:00",
    ):
        page = client.get(base + query)
        assert page.status_code == 200, query
        assert b"platform.test_action" in page.content, query
    assert b"platform.test_action" not in client.get(base + "?app=settlement").content
    entry = LogEntry.objects.get(additional_data__event="platform.test_action")
    assert client.post(f"{base}{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    assert LogEntry.objects.filter(pk=entry.pk).exists()


def test_reverse_relations_are_not_recorded_as_fields(make_user):
    """auditlog listed them with their manager's name, e.g. "exports.Mutation.None" for an export."""
    from exports.models import ExportFile

    export = ExportFile.objects.create(
        name="purchase-export-20261207-101112.xlsx", storage_key="exports/x.xlsx"
    )
    user = make_user("clerk")
    for target in (export, user):
        entry = LogEntry.objects.get_for_object(target).get(action=LogEntry.Action.CREATE)
        assert "name" in entry.changes_dict or "username" in entry.changes_dict
        assert not any(str(new).endswith(".None") for _, new in entry.changes_dict.values())
        assert not {"cleared_mutations", "links", "api_tokens"} & entry.changes_dict.keys()
