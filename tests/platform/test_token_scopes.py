"""Least-privilege API tokens: scopes (write implies read), expiry, revocation, legacy migration."""

from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from project.errors import Forbidden, InvalidInput
from project.models import ApiToken
from project.tokens import issue_api_token, user_for_token

pytestmark = pytest.mark.django_db


def test_write_scope_grants_read_and_write_of_that_api_only(make_user):
    user = make_user("client")
    _, raw = issue_api_token(user=user, scopes=["settlement:write"])
    assert user_for_token(raw, scope="settlement") == user
    assert user_for_token(raw, scope="settlement", write=True) == user
    for other in ("statements", "exports"):
        with pytest.raises(Forbidden, match=f"{other}:read"):
            user_for_token(raw, scope=other)


def test_read_scope_refuses_writes(make_user):
    _, raw = issue_api_token(user=make_user("client"), scopes=["exports:read"])
    assert user_for_token(raw, scope="exports").username == "client"
    with pytest.raises(Forbidden, match="exports:write") as caught:
        user_for_token(raw, scope="exports", write=True)
    assert caught.value.code == "token_scope"


def test_unknown_scope_is_refused_at_issue_time(make_user):
    with pytest.raises(InvalidInput) as caught:
        issue_api_token(user=make_user("client"), scopes=["settlement:admin", "billing:read"])
    assert len(caught.value.problems) == 2


def test_expired_token_is_unknown(make_user):
    token, raw = issue_api_token(
        user=make_user("client"), scopes=["settlement:read"], expires_at=timezone.now() + timedelta(hours=1)
    )
    assert user_for_token(raw, scope="settlement") is not None
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert user_for_token(raw, scope="settlement") is None


def test_revoked_or_inactive_owner_is_unknown_even_in_scope(make_user):
    user = make_user("client")
    token, raw = issue_api_token(user=user, scopes=["statements:write"])
    user.is_active = False
    user.save()
    assert user_for_token(raw, scope="statements") is None
    user.is_active = True
    user.save()
    token.revoked = True
    token.save()
    assert user_for_token(raw, scope="statements") is None


def test_use_records_last_used_at(make_user):
    token, raw = issue_api_token(user=make_user("client"), scopes=["settlement:read"])
    assert token.last_used_at is None
    user_for_token(raw, scope="settlement")
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_last_used_at_is_written_at_most_once_a_minute(make_user):
    token, raw = issue_api_token(user=make_user("client"), scopes=["settlement:read"])
    recent = timezone.now() - timedelta(seconds=30)
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=recent)
    user = user_for_token(raw, scope="settlement")
    token.refresh_from_db()
    assert token.last_used_at == recent
    # The token's columns read with the user are not left on it.
    assert not [name for name in vars(user) if name.startswith("token_")]
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=recent - timedelta(seconds=31))
    user_for_token(raw, scope="settlement")
    token.refresh_from_db()
    assert token.last_used_at > recent


def test_command_takes_scopes_and_expiry(make_user, capsys):
    make_user("client")
    call_command(
        "issue_api_token",
        "client",
        "--scope",
        "settlement:write",
        "--scope",
        "exports:read",
        "--expires",
        "2099-01-31",
    )
    raw = capsys.readouterr().out.strip()
    token = ApiToken.objects.get()
    assert token.scope_labels == ["settlement:write", "exports:read"]
    assert timezone.localtime(token.expires_at).date().isoformat() == "2099-01-31"
    assert user_for_token(raw, scope="exports") is not None


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--scope", "settlement:root"], "not a scope"),
        (["--scope", "settlement:read", "--expires", "2001-01-01"], "in the past"),
        (["--scope", "settlement:read", "--expires", "soon"], "not a date"),
    ],
)
def test_command_refuses_bad_scopes_and_expiry(make_user, arguments, message):
    make_user("client")
    with pytest.raises(CommandError, match=message):
        call_command("issue_api_token", "client", *arguments)
    assert not ApiToken.objects.exists()


def test_command_requires_a_scope(make_user):
    make_user("client")
    with pytest.raises(CommandError, match="--scope"):
        call_command("issue_api_token", "client")


def test_admin_lists_scopes_and_legacy_flag(client, make_user):
    admin_user = make_user("root", staff=True)
    admin_user.is_superuser = True
    admin_user.save()
    client.force_login(admin_user)
    token, _ = issue_api_token(user=make_user("machine"), scopes=["settlement:read"])
    ApiToken.objects.filter(pk=token.pk).update(legacy=True)
    page = client.get("/admin/project/apitoken/").content.decode()
    assert "settlement:read" in page
    assert client.get("/admin/project/apitoken/?legacy__exact=1").status_code == 200
