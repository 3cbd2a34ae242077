"""Self-billing invoices (issue 24 item 4): the label issues, in the name of each payee who opted
in (`Payee.self_billing`), one numbered invoice per finalised statement with something payable.

Numbers are gapless per label (SELF_BILLING_LABEL): the counter row is locked (select_for_update)
in the transaction that creates the invoice — finalisation's own, or a later `issue_invoice` — so a
rolled-back issue gives its number back. The VAT wording follows `tax_treatment` (the rules are in
docs/royalties.md); the PDF is rendered once into the storage after the issue commits.
"""

import logging
from datetime import date
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from stdnum.eu.vat import MEMBER_STATES

from project import storage
from project.admin_display import percent
from project.audit import record_action
from project.money import rounded
from statements.royalties import documents
from statements.royalties.models import (
    InvoiceCounter,
    Payee,
    RoyaltyRun,
    RoyaltyStatement,
    SelfBillingInvoice,
    VatStatus,
)
from statements.royalties.presentation import label

logger = logging.getLogger(__name__)
T = SelfBillingInvoice.Treatment
# EU member states by ISO 3166 code (python-stdnum's list; "XI", Northern Ireland, is a VAT prefix
# for goods only, not a country of its own for services).
EU = frozenset(code.upper() for code in MEMBER_STATES) - {"XI"}
HUNDRED = Decimal(100)
WORDING = {
    T.DOMESTIC_VAT: _("VAT charged at the domestic rate."),
    T.REVERSE_CHARGE: _(
        "Reverse charge: VAT to be accounted for by the recipient (Article 196, Council Directive "
        "2006/112/EC)."
    ),
    T.OUTSIDE_SCOPE: _(
        "Outside the scope of EU VAT: the supplier is established outside the European Union."
    ),
    T.NO_VAT: _("No VAT charged: the supplier is not registered for VAT."),
    T.EXEMPT: _("No VAT charged: the supplier is exempt from VAT."),
}
SELF_BILLING_NOTE = _(
    "Self-billing: invoice issued by the customer in the name and on behalf of the supplier "
    "(Article 224, Council Directive 2006/112/EC)."
)


def tax_treatment(*, supplier_country: str, vat_status: str, label_country: str) -> str:
    """How VAT applies to a payee's royalties invoiced to the label: outside the EU, out of scope;
    in the EU, by the payee's VAT status; a registered payee in another EU country than the label's,
    reverse charge (B2B cross-border); in the label's own country, domestic VAT."""
    if supplier_country not in EU:
        return T.OUTSIDE_SCOPE
    if vat_status == VatStatus.NOT_REGISTERED:
        return T.NO_VAT
    if vat_status == VatStatus.EXEMPT:
        return T.EXEMPT
    return T.DOMESTIC_VAT if supplier_country == label_country else T.REVERSE_CHARGE


def invoice_figures(*, payable: Decimal, currency: str, treatment: str, withholding_percent: Decimal) -> dict:
    """Net (the statement's payable, rounded once), VAT on it (domestic only), withholding on the
    net, and what the label pays: each rounded half-even to the currency's minor unit."""
    net = rounded(payable, currency)
    vat_rate = Decimal(settings.SELF_BILLING_VAT_RATE) if treatment == T.DOMESTIC_VAT else Decimal(0)
    withholding_rate = withholding_percent / HUNDRED
    vat = rounded(net * vat_rate, currency)
    withholding = rounded(net * withholding_rate, currency)
    return {
        "net": net,
        "vat_rate": vat_rate,
        "vat": vat,
        "withholding_rate": withholding_rate,
        "withholding": withholding,
        "total": net + vat - withholding,
    }


def _label() -> dict:
    return {**label(), "country": settings.ROYALTY_LABEL_COUNTRY, "vat_id": settings.ROYALTY_LABEL_VAT_ID}


def _supplier(payee: Payee) -> dict:
    return {
        "name": payee.name,
        "address": payee.address,
        "country": payee.country,
        "tax_id": payee.tax_id,
        "vat_status": payee.vat_status,
    }


def issue_invoice(*, royalty: RoyaltyRun, payee: Payee, day: date | None = None) -> SelfBillingInvoice | None:
    """The self-billing invoice of `payee`'s statement in the finalised `royalty` run: the one
    already issued, else a new one with the label's next number; None when the payee did not opt
    in, has no country, or nothing is payable. Runs in the caller's transaction when there is one."""
    existing = SelfBillingInvoice.objects.filter(royalty_run=royalty, payee=payee).first()
    if existing is not None or not payee.self_billing or not payee.country:
        return existing
    statement = (
        RoyaltyStatement.objects.filter(statement_set__royalty_run=royalty, payee=payee)
        .select_related("statement_set__run")
        .first()
    )
    if statement is None or statement.payable <= 0:
        return None
    run = statement.statement_set.run
    currency = statement.currency  # the payee's: what is payable is in it
    treatment = tax_treatment(
        supplier_country=payee.country,
        vat_status=payee.vat_status,
        label_country=settings.ROYALTY_LABEL_COUNTRY,
    )
    figures = invoice_figures(
        payable=statement.payable,
        currency=currency,
        treatment=treatment,
        withholding_percent=payee.withholding_rate,
    )
    label = settings.SELF_BILLING_LABEL
    with transaction.atomic():
        # ON CONFLICT DO NOTHING: the first issue of a label makes its counter, concurrent ones wait.
        InvoiceCounter.objects.bulk_create([InvoiceCounter(label=label)], ignore_conflicts=True)
        counter = InvoiceCounter.objects.select_for_update().get(label=label)
        counter.last_number += 1
        counter.save(update_fields=["last_number"])
        invoice = SelfBillingInvoice.objects.create(
            label=label,
            number=counter.last_number,
            royalty_run=royalty,
            payee=payee,
            issue_date=day or timezone.localdate(),
            currency=currency,
            treatment=treatment,
            parties={
                "supplier": _supplier(payee),
                "customer": _label(),
                "run": {"id": run.pk, "name": run.name, "currency": currency},
            },
            **figures,
        )
        record_action("royalties.invoice_issued", target=invoice, changes={"number": invoice.code})
        transaction.on_commit(lambda: _queue_document(invoice.pk))
    return invoice


def issue_for_run(royalty: RoyaltyRun) -> list[SelfBillingInvoice]:
    """The invoices of every opted-in payee of a finalised run (finalisation calls it in its own
    transaction); payees already invoiced keep theirs."""
    ids = RoyaltyStatement.objects.filter(statement_set__royalty_run=royalty).values("payee_id")
    issued = []
    for payee in Payee.objects.filter(pk__in=ids, self_billing=True).order_by("pk"):
        invoice = issue_invoice(royalty=royalty, payee=payee)
        if invoice is not None:
            issued.append(invoice)
        elif not payee.country:
            logger.warning("no self-billing invoice for payee %s: no country in their details", payee.pk)
    return issued


def _queue_document(invoice_id: int) -> None:
    from django_q.tasks import async_task

    async_task("statements.tasks.store_invoice_document", invoice_id, task_name=f"invoice-{invoice_id}")


def document(invoice: SelfBillingInvoice) -> bytes:
    """The invoice's PDF: from the storage once stored, else rendered and stored now."""
    if invoice.storage_key:
        return storage.read(invoice.storage_key)
    return store_document(invoice)


def store_document(invoice: SelfBillingInvoice) -> bytes:
    """Render the invoice's PDF into the storage (the same bytes every time: it reads only what
    the invoice froze) and remember its key."""
    content = documents.render_pdf("portal/invoice_pdf.html", _context(invoice))
    key = f"self-billing/{invoice.label}/{document_name(invoice)}"
    storage.save(key, content)
    SelfBillingInvoice.objects.filter(pk=invoice.pk).update(storage_key=key)
    invoice.storage_key = key
    return content


def document_name(invoice: SelfBillingInvoice) -> str:
    return f"invoice-{invoice.code}.pdf"


def _context(invoice: SelfBillingInvoice) -> dict:
    return {
        "invoice": invoice,
        "supplier": invoice.parties["supplier"],
        "customer": invoice.parties["customer"],
        "run": invoice.parties["run"],
        "vat_status": VatStatus(invoice.parties["supplier"]["vat_status"]).label,
        "wording": WORDING[invoice.treatment],
        "self_billing_note": SELF_BILLING_NOTE,
        "gross": invoice.net + invoice.vat,
        "vat_percent": percent(invoice.vat_rate),
        "withholding_percent": percent(invoice.withholding_rate),
    }
