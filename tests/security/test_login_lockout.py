"""Login lockout (django-axes) through the real login form: per user name and per client address."""

import pytest
from axes.models import AccessAttempt
from django.test import Client

pytestmark = pytest.mark.django_db
LOGIN = "/accounts/login/"


def log_in(client: Client, username: str, password: str, ip: str = "10.0.0.1"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=ip)


def is_logged_in(client: Client) -> bool:
    return "_auth_user_id" in client.session


def test_sixth_attempt_is_refused_even_with_the_right_password(client, make_user, settings):
    assert settings.AXES_FAILURE_LIMIT == 5
    make_user("clerk", groups=["back-office"])
    for _ in range(4):
        assert log_in(client, "clerk", "wrong").status_code == 200  # the form again, with its error
    assert log_in(client, "clerk", "wrong").status_code == 429  # the 5th failure locks
    response = log_in(client, "clerk", "pw-clerk-123")
    assert response.status_code == 429
    assert b"Too many failed logins" in response.content
    assert not is_logged_in(client)


def test_fewer_failures_still_let_the_right_password_in(client, make_user):
    make_user("clerk")
    for _ in range(4):
        log_in(client, "clerk", "wrong")
    assert log_in(client, "clerk", "pw-clerk-123").status_code == 302
    assert is_logged_in(client)


def test_lockout_is_per_user_name_across_addresses(make_user):
    make_user("clerk")
    for n in range(5):
        log_in(Client(), "clerk", "wrong", ip=f"10.0.1.{n}")
    assert log_in(Client(), "clerk", "pw-clerk-123", ip="10.0.2.1").status_code == 429


def test_lockout_is_per_address_across_user_names(make_user):
    make_user("clerk")
    for n in range(5):
        log_in(Client(), f"guess{n}", "wrong", ip="10.0.3.1")
    assert log_in(Client(), "clerk", "pw-clerk-123", ip="10.0.3.1").status_code == 429
    other = Client()
    assert log_in(other, "clerk", "pw-clerk-123", ip="10.0.3.2").status_code == 302


def test_admin_lists_and_clears_a_lockout(client, make_user):
    make_user("clerk")
    for _ in range(5):
        log_in(Client(), "clerk", "wrong")
    boss = make_user("boss", staff=True)
    boss.is_superuser = True
    boss.save()
    client.force_login(boss)
    page = client.get("/admin/axes/accessattempt/")
    assert page.status_code == 200 and b"clerk" in page.content
    attempt = AccessAttempt.objects.get(username="clerk")
    response = client.post(
        "/admin/axes/accessattempt/",
        {"action": "delete_selected", "_selected_action": [attempt.pk], "post": "yes"},
    )
    assert response.status_code == 302
    assert log_in(Client(), "clerk", "pw-clerk-123").status_code == 302


def test_behind_the_proxy_the_address_is_the_one_the_proxy_appended(make_user, settings):
    settings.DJANGO_BEHIND_PROXY = True
    make_user("clerk")
    for n in range(5):
        # The attacker varies the client-supplied part; our proxy appends the real peer.
        Client().post(
            LOGIN,
            {"username": f"guess{n}", "password": "x"},
            REMOTE_ADDR="127.0.0.1",
            HTTP_X_FORWARDED_FOR=f"1.1.1.{n}, 10.0.4.1",
        )
    response = Client().post(
        LOGIN,
        {"username": "clerk", "password": "pw-clerk-123"},
        REMOTE_ADDR="127.0.0.1",
        HTTP_X_FORWARDED_FOR="10.0.4.2",
    )
    assert response.status_code == 302
    response = Client().post(
        LOGIN,
        {"username": "clerk", "password": "pw-clerk-123"},
        REMOTE_ADDR="127.0.0.1",
        HTTP_X_FORWARDED_FOR="10.0.4.1",
    )
    assert response.status_code == 429
