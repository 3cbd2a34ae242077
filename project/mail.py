"""Templated emails through a database outbox.

`queue_email` renders `templates/emails/<name>.subject.txt`, `<name>.txt` and (if present)
`<name>.html` — files the customer can edit — and stores the result in the caller's transaction.
Delivery runs after commit and, for mails that failed, again from the `deliver_outbox` schedule.
"""

import logging
from collections.abc import Sequence

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template import TemplateDoesNotExist
from django.template.loader import render_to_string
from django.utils import timezone, translation

from project.models import OutboundAttachment, OutboundEmail

logger = logging.getLogger(__name__)
MAX_ATTEMPTS = 10


def queue_email(
    *, template: str, context: dict, to: Sequence[str], attachments: Sequence[tuple[str, bytes, str]] = ()
) -> OutboundEmail | None:
    """Render `emails/<template>` and queue it, with `attachments` as (file name, content, content
    type); delivery starts once the transaction commits."""
    recipients = [address for address in to if address]
    if not recipients:
        logger.warning("email %s not queued: no recipients configured", template)
        return None
    # Recipients are mailing lists, not users: the site's language, never the browser's of the
    # request (e.g. a manual upload) that happened to queue the mail.
    with translation.override(settings.LANGUAGE_CODE):
        subject = " ".join(render_to_string(f"emails/{template}.subject.txt", context).split())
        text_body = render_to_string(f"emails/{template}.txt", context)
        try:
            html_body = render_to_string(f"emails/{template}.html", context)
        except TemplateDoesNotExist:
            html_body = ""
    email = OutboundEmail.objects.create(
        kind=template, subject=subject[:300], to=recipients, text_body=text_body, html_body=html_body
    )
    OutboundAttachment.objects.bulk_create(
        OutboundAttachment(email=email, filename=name, content=content, content_type=content_type)
        for name, content, content_type in attachments
    )
    transaction.on_commit(lambda: _schedule_delivery(email.pk))
    return email


def _schedule_delivery(email_id: int) -> None:
    from django_q.tasks import async_task

    try:
        async_task("project.tasks.deliver_email", email_id, task_name=f"deliver-email-{email_id}")
    except Exception:  # the broker being down must not fail the work that queued the mail
        logger.exception("could not enqueue delivery of email %s; the outbox schedule retries it", email_id)


def deliver_email(email_id: int) -> bool:
    """Send one pending email; True when sent. Failures are recorded for the next attempt."""
    with transaction.atomic():
        email = (
            OutboundEmail.objects.select_for_update(skip_locked=True)
            .filter(pk=email_id, status=OutboundEmail.Status.PENDING)
            .first()
        )
        if email is None:
            return False
        message = EmailMultiAlternatives(
            subject=email.subject,
            body=email.text_body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=email.to,
        )
        if email.html_body:
            message.attach_alternative(email.html_body, "text/html")
        for attachment in email.attachments.all():
            message.attach(attachment.filename, bytes(attachment.content), attachment.content_type)
        email.attempts += 1
        try:
            message.send()
        except Exception as exc:  # SMTP errors come in many classes; all mean "try later"
            email.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            if email.attempts >= MAX_ATTEMPTS:
                email.status = OutboundEmail.Status.FAILED
            email.save(update_fields=["attempts", "last_error", "status"])
            logger.warning("email %s not sent (attempt %s): %s", email.pk, email.attempts, email.last_error)
            return False
        email.status = OutboundEmail.Status.SENT
        email.sent_at = timezone.now()
        email.last_error = ""
        email.save(update_fields=["attempts", "last_error", "status", "sent_at"])
        return True


def deliver_outbox() -> int:
    """Retry every pending email; returns how many were sent."""
    pending = OutboundEmail.objects.filter(status=OutboundEmail.Status.PENDING).order_by("created_at")
    return sum(deliver_email(pk) for pk in pending.values_list("pk", flat=True))
