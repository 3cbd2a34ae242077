"""Payee details (issue 24): address, tax id, VAT status, withholding and how a payee is paid.

`check_details` is pure: it normalises submitted values and lists what is wrong (tax ids by
python-stdnum for the payee's country, IBAN and BIC by schwifty). The services write: staff change
details directly (`update_payee_details`); a payee's own change waits as a PaymentDetailsChange
until staff approve it (`submit_payment_details_change`, `approve_…`, `reject_…`). Every change is
recorded in the audit trail with the old and new values.
"""

from decimal import Decimal, InvalidOperation
from types import ModuleType
from typing import Any

import pycountry
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from schwifty import BIC, IBAN
from schwifty.exceptions import SchwiftyException
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.util import get_cc_module

from project.audit import record_action
from project.errors import Conflict, InvalidInput
from project.roles import BACK_OFFICE, user_in_group
from statements.royalties.models import PAYMENT_DETAILS, Payee, PaymentDetailsChange, PaymentMethod, VatStatus

S = PaymentDetailsChange.Status
STAFF_DETAILS = (*PAYMENT_DETAILS, "vat_status", "withholding_rate")
# Per country, the python-stdnum modules a tax id may be checked by: the VAT number, then the
# personal fiscal codes stdnum names differently per country (Italy's codice fiscale, …).
TAX_ID_MODULES = (
    "vat",
    "tin",
    "codicefiscale",
    "idnr",
    "stnr",
    "nif",
    "nie",
    "bsn",
    "utr",
    "ssn",
    "cpf",
    "cnpj",
)


def _tax_id_modules(country: str) -> list[ModuleType]:
    found = []
    for name in TAX_ID_MODULES:
        try:
            module = get_cc_module(country.lower(), name)
        except ImportError:
            continue
        if module is not None and module not in found:
            found.append(module)
    return found


def check_tax_id(country: str, tax_id: str) -> tuple[str, str | None]:
    """The tax id as stored (compacted by the module that accepts it) and a problem, or None. A
    country python-stdnum has no module for accepts the id as typed."""
    modules = _tax_id_modules(country)
    if not modules:
        return tax_id.strip(), None
    for module in modules:
        try:
            return module.validate(tax_id), None
        except StdnumError:
            continue
    names = ", ".join(module.__name__.removeprefix("stdnum.") for module in modules)
    return tax_id.strip(), f"{tax_id!r} is not a valid tax id for {country} ({names})."


def check_details(
    data: dict[str, Any], *, fields: tuple[str, ...] = STAFF_DETAILS
) -> tuple[dict, list[dict]]:
    """Normalised values of the given `fields` present in `data`, and the problems
    ({"loc": [field], "msg": …}). Values not given keep no default: merge with the payee's first."""
    clean: dict[str, Any] = {}
    problems: list[dict] = []

    def problem(field: str, msg: str) -> None:
        problems.append({"loc": [field], "msg": msg})

    for field in fields:
        if field in data:
            value = data[field]
            clean[field] = value.strip() if isinstance(value, str) else value
    if "country" in clean:
        clean["country"] = (clean["country"] or "").upper()
        if clean["country"] and pycountry.countries.get(alpha_2=clean["country"]) is None:
            problem("country", f"{clean['country']!r} is not an ISO 3166 country code.")
    if clean.get("tax_id"):
        clean["tax_id"], wrong = check_tax_id(clean.get("country") or "", clean["tax_id"])
        if wrong:
            problem("tax_id", wrong)
    if clean.get("iban"):
        try:
            iban = IBAN(clean["iban"])
            clean["iban"] = iban.compact
            if not clean.get("bic") and iban.bic is not None:
                clean["bic"] = str(iban.bic)
        except SchwiftyException as exc:
            problem("iban", f"Invalid IBAN: {exc}")
    if clean.get("bic"):
        try:
            clean["bic"] = str(BIC(clean["bic"]))
        except SchwiftyException as exc:
            problem("bic", f"Invalid BIC: {exc}")
    for field in ("paypal_email", "wise_email"):
        if clean.get(field):
            try:
                validate_email(clean[field])
            except ValidationError:
                problem(field, f"{clean[field]!r} is not an email address.")
    if "payment_method" in clean and clean["payment_method"] not in PaymentMethod.values:
        problem("payment_method", f"Unknown payment method {clean['payment_method']!r}.")
    if "vat_status" in clean and clean["vat_status"] not in VatStatus.values:
        problem("vat_status", f"Unknown VAT status {clean['vat_status']!r}.")
    if "withholding_rate" in clean:
        try:
            rate = Decimal(str(clean["withholding_rate"]))
            if not 0 <= rate <= 100:
                raise InvalidOperation
            clean["withholding_rate"] = rate
        except InvalidOperation:
            problem("withholding_rate", "The withholding rate is a percent from 0 to 100.")
    return clean, problems


def method_problems(values: dict[str, Any]) -> list[dict]:
    """The chosen method needs its account: an IBAN, a PayPal or a Wise email."""
    needs = {
        PaymentMethod.IBAN: "iban",
        PaymentMethod.PAYPAL: "paypal_email",
        PaymentMethod.WISE: "wise_email",
    }
    field = needs.get(values.get("payment_method"))
    if field and not values.get(field):
        return [{"loc": [field], "msg": f"Paid by {values['payment_method']}: {field} is required."}]
    return []


def _checked(payee: Payee, data: dict[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    clean, problems = check_details(data, fields=fields)
    merged = {field: getattr(payee, field) for field in STAFF_DETAILS} | clean
    problems += method_problems(merged)
    if problems:
        raise InvalidInput(
            "The payee details are not valid: " + " ".join(p["msg"] for p in problems),
            code="payee_details_invalid",
            problems=problems,
        )
    return clean


def _apply(
    payee: Payee, values: dict[str, Any], *, event: str, user: AbstractBaseUser | None, **extra
) -> Payee:
    changes = {}
    for field, value in values.items():
        old = getattr(payee, field)
        if old != value:
            changes[field] = [str(old), str(value)]
            setattr(payee, field, value)
    if changes:
        payee.save(update_fields=list(changes))
    record_action(event, target=payee, changes={**changes, **extra}, user=user)
    return payee


def update_payee_details(*, payee: Payee, data: dict[str, Any], by_user: AbstractBaseUser | None) -> Payee:
    """Staff set a payee's details (including VAT status and withholding), used from now on."""
    with transaction.atomic():
        payee = Payee.objects.select_for_update().get(pk=payee.pk)
        values = _checked(payee, data, STAFF_DETAILS)
        return _apply(payee, values, event="royalties.payee_details_changed", user=by_user)


def submit_payment_details_change(
    *, payee: Payee, data: dict[str, Any], by_user: AbstractBaseUser | None
) -> PaymentDetailsChange:
    """A payee's new payment details (PAYMENT_DETAILS), pending until staff approve them; an earlier
    pending change of the same payee is superseded."""
    with transaction.atomic():
        payee = Payee.objects.select_for_update().get(pk=payee.pk)
        values = _checked(payee, data, PAYMENT_DETAILS)
        PaymentDetailsChange.objects.filter(payee=payee, status=S.PENDING).update(
            status=S.SUPERSEDED, decided_at=timezone.now()
        )
        change = PaymentDetailsChange.objects.create(
            payee=payee,
            details={k: str(v) for k, v in values.items()},
            submitted_by=by_user if by_user is not None and by_user.is_authenticated else None,
        )
        record_action(
            "royalties.payment_details_submitted",
            target=payee,
            changes={"change": change.pk, **change.details},
            user=by_user,
        )
    return change


def _decide(change: PaymentDetailsChange, by_user: AbstractBaseUser) -> PaymentDetailsChange:
    if not user_in_group(by_user, BACK_OFFICE):
        raise InvalidInput("Only back-office staff approve or reject payment details.", code="not_staff")
    change = PaymentDetailsChange.objects.select_for_update().select_related("payee").get(pk=change.pk)
    if change.status != S.PENDING:
        raise Conflict(
            f"This change of payment details is {change.get_status_display()}, not pending.",
            code="details_change_decided",
        )
    return change


def approve_payment_details_change(*, change: PaymentDetailsChange, by_user: AbstractBaseUser) -> Payee:
    """Staff approve a pending change: its details are checked again and become the payee's."""
    with transaction.atomic():
        change = _decide(change, by_user)
        payee = Payee.objects.select_for_update().get(pk=change.payee_id)
        values = _checked(payee, change.details, PAYMENT_DETAILS)
        change.status, change.decided_by, change.decided_at = S.APPROVED, by_user, timezone.now()
        change.save(update_fields=["status", "decided_by", "decided_at"])
        return _apply(
            payee, values, event="royalties.payment_details_approved", user=by_user, change=change.pk
        )


def reject_payment_details_change(
    *, change: PaymentDetailsChange, by_user: AbstractBaseUser, reason: str = ""
) -> PaymentDetailsChange:
    """Staff reject a pending change; the payee's details stay as they were."""
    with transaction.atomic():
        change = _decide(change, by_user)
        change.status, change.decided_by, change.decided_at = S.REJECTED, by_user, timezone.now()
        change.reason = reason[:300]
        change.save(update_fields=["status", "decided_by", "decided_at", "reason"])
        record_action(
            "royalties.payment_details_rejected",
            target=change.payee,
            changes={"change": change.pk, "reason": reason},
            user=by_user,
        )
    return change
