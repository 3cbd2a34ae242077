"""Every admin changelist fits a 1280 px window (no sideways scroll) with realistic rows in it: the
demo's past sessions and their files, emails and steps, a royalty contract and ledger entry, an
exported document with a mutation, a settlement structure."""

from decimal import Decimal

import pytest
from django.contrib import admin
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def admin_rows(settings, tmp_path, make_user):
    from exports.models import Document, Mutation
    from statements.royalties import services as royalty_services
    from statements.royalties.models import Contract, Payee

    settings.VAR_DIR = tmp_path / "var"
    settings.SESSIONS_LOG_FS_URL = f"osfs://{tmp_path / 'var' / 'remote-log'}"
    settings.SESSIONS_LOG_POLL_INTERVAL = 0.05
    call_command("demo_setup", stdout=open("/dev/null", "w"))  # noqa: SIM115 (closed with the process)
    payee = Payee.objects.create(name="Ana Lopez Fernández", email="ana.lopez@example.test")
    contract = Contract.objects.create(
        name="Ana Lopez - worldwide recording agreement 2026",
        artists=["Ana Lopez", "Ana Lopez & The Night Owls"],
        rate_stream=Decimal("0.5"),
        rate_download=Decimal("0.15"),
        rate_physical=Decimal("0.12"),
        rate_other=Decimal("0.10"),
    )
    royalty_services.post_entry(
        payee=payee,
        contract=contract,
        kind="adjustment",
        amount=Decimal("-50"),
        currency="EUR",
        memo="Correction of the Q3 statement",
    )
    document = Document.objects.create(
        moneybird_id="401234567890123456",
        type="purchase_invoice",
        status="open",
        contact="Acme Supplies International BV",
        reference="INV-2026-000123",
        total_incl_tax=Decimal("1234.56"),
        currency="EUR",
        version=1762077600,
        raw={"details": [{"id": "401234567890123457"}]},
        synced_at=timezone.now(),
    )

    Mutation.objects.create(
        document=document,
        field_name="detailAmount",
        detail="401234567890123457",
        old_value="249.90",
        new_value="349.90",
        detected_at=timezone.now(),
    )
    root = make_user("root", staff=True)
    root.is_superuser = True
    root.save()
    return root


def test_every_changelist_fits_1280_px(page, admin_rows):
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto("/accounts/login/?next=/admin/")
    page.fill("input[name=username]", "root")
    page.fill("input[name=password]", "pw-root-123")
    page.click("button[type=submit]")
    too_wide = {}
    for model in admin.site._registry:
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        page.goto(url)
        # The admin scrolls a wide table inside its .results box, not the page: measure both.
        overflow = page.evaluate(
            """() => [document.documentElement, ...document.querySelectorAll('.results')]
                .map(box => box.scrollWidth - box.clientWidth).reduce((a, b) => Math.max(a, b), 0)"""
        )
        if overflow > 0:
            too_wide[url] = overflow
    assert too_wide == {}
