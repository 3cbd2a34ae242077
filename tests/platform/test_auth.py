import pytest
from django.contrib.auth.models import Group
from django.core.management import call_command

from project.models import ApiToken
from project.tokens import issue_api_token, user_for_token

pytestmark = pytest.mark.django_db


def test_groups_exist_after_migrations():
    assert set(Group.objects.values_list("name", flat=True)) >= {"operators", "back-office"}


def test_issue_api_token_prints_only_the_token_and_stores_a_hash(make_user, capsys):
    user = make_user("client")
    call_command("issue_api_token", "client", "--scope", "settlement:read")
    raw = capsys.readouterr().out.strip()
    assert "\n" not in raw and raw.startswith("bo_")
    token = ApiToken.objects.get()
    assert raw not in (token.digest, token.prefix) and token.digest != raw
    assert user_for_token(raw) == user


def test_revoked_token_is_refused(make_user):
    token, raw = issue_api_token(user=make_user("client"), scopes=["settlement:write"])
    token.revoked = True
    token.save()
    assert user_for_token(raw) is None


def test_home_redirects_anonymous_to_login(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert client.get("/accounts/login/").status_code == 200


def test_admin_is_staff_only(client, make_user):
    client.force_login(make_user("op", groups=["operators"]))
    assert client.get("/admin/").status_code == 302
    client.force_login(make_user("boss", staff=True))
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/django_q/schedule/").status_code in (200, 403)


def test_admin_creates_a_token_and_shows_it_once(client, make_user):
    admin_user = make_user("root", staff=True)
    admin_user.is_superuser = True
    admin_user.save()
    owner = make_user("machine")
    client.force_login(admin_user)
    response = client.post(
        "/admin/project/apitoken/add/",
        {"user": owner.pk, "name": "ci", "statements_access": "read"},
        follow=True,
    )
    assert response.status_code == 200
    [message] = [str(m) for m in response.context["messages"] if "copy it now" in str(m)]
    raw = message.rsplit(" ", 1)[-1]
    assert user_for_token(raw, scope="statements") == owner
    token = ApiToken.objects.get()
    assert (token.name, token.scope_labels, token.legacy) == ("ci", ["statements:read"], False)
