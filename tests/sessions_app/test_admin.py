import pytest

from sessions_app import services

pytestmark = pytest.mark.django_db


def test_admin_lists_sessions_with_their_step_log_read_only(client, make_user, eligible_day):
    session = services.start_session(day=eligible_day.business_date, enqueue=False)
    admin = make_user("root", staff=True)
    admin.is_superuser = True
    admin.save()
    client.force_login(admin)

    assert client.get("/admin/sessions_app/session/").status_code == 200
    change = client.get(f"/admin/sessions_app/session/{session.pk}/change/")
    assert change.status_code == 200
    assert "started by command line" in change.content.decode()
    assert client.get("/admin/sessions_app/sessionstep/?kind=start").status_code == 200
    assert client.get("/admin/sessions_app/session/add/").status_code == 403


def test_admin_is_staff_only(client, make_user):
    client.force_login(make_user("olga", groups=["operators"]))
    assert client.get("/admin/sessions_app/session/").status_code == 302


def test_no_one_may_delete_a_session_or_its_steps_in_the_admin(client, make_user, eligible_day):
    """Closing is how a day ends: a deleted session left its day closed for manual upload while the
    page offered to start it again."""
    from sessions_app.models import Session

    session = services.start_session(day=eligible_day.business_date, enqueue=False)
    root = make_user("root", staff=True)
    root.is_superuser = True
    root.save()
    client.force_login(root)

    assert client.get(f"/admin/sessions_app/session/{session.pk}/delete/").status_code == 403
    changelist = client.get("/admin/sessions_app/session/").content.decode()
    assert "delete_selected" not in changelist
    client.post(
        "/admin/sessions_app/session/", {"action": "delete_selected", "_selected_action": [session.pk]}
    )
    step = session.steps.get()
    assert client.get(f"/admin/sessions_app/sessionstep/{step.pk}/delete/").status_code == 403
    assert Session.objects.filter(pk=session.pk).exists() and session.steps.exists()


def test_session_invoice_lists_and_steps_read_as_words(client, make_user, eligible_day):
    from sessions_app.models import Session

    root = make_user("root", staff=True)
    root.is_superuser = True
    root.save()
    client.force_login(root)
    session = services.start_session(day=eligible_day.business_date, enqueue=False)
    Session.objects.filter(pk=session.pk).update(not_found=["600010020", "600010021"], total=3)
    html = client.get(f"/admin/sessions_app/session/{session.pk}/change/").content.decode()
    assert "600010020, 600010021" in html and "[&quot;600010020" not in html
    assert str(session.steps.get()) == "Start: Done"
    assert "- / 3" in client.get("/admin/sessions_app/session/").content.decode()


def test_a_superuser_reopens_a_closed_session_with_a_reason_in_the_audit_trail(
    client, make_user, eligible_day
):
    from auditlog.models import LogEntry

    from ingestion.models import ClosedDay
    from sessions_app.models import Session

    day = eligible_day.business_date
    session = services.start_session(day=day, enqueue=False)
    services.close_session(day=day, force=True)
    root = make_user("root", staff=True)
    root.is_superuser = True
    root.save()
    client.force_login(root)
    action = {"action": "reopen", "_selected_action": [session.pk]}

    asks = client.post("/admin/sessions_app/session/", action)
    assert asks.status_code == 200 and 'name="reason"' in asks.content.decode()
    refused = client.post("/admin/sessions_app/session/", {**action, "reason": "  "})
    assert 'name="reason"' in refused.content.decode()
    assert Session.objects.get().is_closed

    done = client.post("/admin/sessions_app/session/", {**action, "reason": "closed by mistake"}, follow=True)
    assert f"Session for {day.isoformat()} reopened." in done.content.decode()
    session.refresh_from_db()
    assert not session.is_closed and not session.force_closed and not ClosedDay.objects.exists()
    [entry] = LogEntry.objects.filter(additional_data__event="sessions.reopen")
    assert entry.actor == root and entry.changes_dict["reason"] == [None, "closed by mistake"]
    assert session.steps.filter(kind="reopen", message__endswith="closed by mistake").exists()


def test_only_a_superuser_may_reopen(client, make_user, eligible_day):
    """Staff with every session permission still do not get the action."""
    from django.contrib.auth.models import Permission

    from sessions_app.models import Session

    day = eligible_day.business_date
    session = services.start_session(day=day, enqueue=False)
    services.close_session(day=day, force=True)
    staff = make_user("staff", staff=True)
    staff.user_permissions.add(*Permission.objects.filter(codename__endswith="_session"))
    client.force_login(staff)

    assert "reopen" not in client.get("/admin/sessions_app/session/").content.decode()
    client.post(
        "/admin/sessions_app/session/", {"action": "reopen", "_selected_action": [session.pk], "reason": "x"}
    )
    assert Session.objects.get().is_closed
