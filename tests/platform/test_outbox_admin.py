"""The outbox in the admin: read-only, the HTML body previewed in a sandboxed, escaped iframe."""

import pytest
from django.urls import reverse

from project.models import OutboundEmail

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser_client(client, make_user):
    user = make_user("root", staff=True)
    user.is_superuser = True
    user.save()
    client.force_login(user)
    return client


def test_outbound_email_is_read_only_with_an_escaped_sandboxed_preview(superuser_client):
    email = OutboundEmail.objects.create(
        kind="ingestion/summary",
        subject="Summary",
        to=["a@example.test"],
        text_body="plain",
        html_body='<p>Hi "you"</p><script>alert(1)</script>',
    )
    url = reverse("admin:project_outboundemail_change", args=[email.pk])

    page = superuser_client.get(url).content.decode()

    assert '<iframe sandbox="" srcdoc="&lt;p&gt;Hi &quot;you&quot;&lt;/p&gt;&lt;script&gt;' in page
    assert "<script>alert(1)</script>" not in page
    assert 'name="subject"' not in page  # no form fields: nothing can be edited
    superuser_client.post(url, {"subject": "changed"})
    email.refresh_from_db()
    assert email.subject == "Summary"


def test_failed_emails_can_still_be_retried_from_the_list(superuser_client):
    email = OutboundEmail.objects.create(
        kind="k", subject="s", to=["a@example.test"], text_body="t", status="failed"
    )
    response = superuser_client.post(
        reverse("admin:project_outboundemail_changelist"),
        {"action": "retry", "_selected_action": [email.pk]},
        follow=True,
    )
    assert response.status_code == 200
    email.refresh_from_db()
    assert email.status in ("sent", "pending")
