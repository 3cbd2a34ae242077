"""Payee details (issue 24): address, tax id, VAT status, withholding and how a payee is paid.

`check_details` is pure: it normalises submitted values and lists what is wrong (tax ids by
python-stdnum for the payee's country, IBAN and BIC by schwifty), each problem's `msg` a lazy
text that a form shows in the reader's language (`english_problems` for the API and the logs). The services write: staff change
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
from django.utils import timezone, translation
from django.utils.functional import Promise, lazy
from django.utils.translation import gettext_lazy as _
from schwifty import BIC, IBAN
from schwifty import exceptions as schwifty_errors
from schwifty.exceptions import SchwiftyException
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.util import get_cc_module

from project.audit import record_action
from project.errors import Conflict, InvalidInput
from project.money import rounded
from project.roles import BACK_OFFICE, user_in_group
from statements.royalties.models import PAYMENT_DETAILS, Payee, PaymentDetailsChange, PaymentMethod, VatStatus
from statements.royalties.selectors import ledger_balances

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


def _render(template: Promise, params: dict[str, Any]) -> str:
    return str(template) % params


_lazy_text = lazy(_render, str)


def problem(field: str, template: Promise, **params: Any) -> dict[str, Any]:
    """A problem with `field`: its `msg` renders `template` with `params` in the language active
    when it is shown (a form's error), not when it is made."""
    return {"loc": [field], "msg": _lazy_text(template, params)}


def english_problems(problems: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The problems with their messages in English (an API's error body, an exception's message)."""
    with translation.override("en"):
        return [{**found, "msg": str(found["msg"])} for found in problems]


# Why schwifty refuses an IBAN or a BIC, in the reader's words (its own message is English).
ACCOUNT_ERRORS = {
    schwifty_errors.InvalidLength: _("wrong length"),
    schwifty_errors.InvalidChecksumDigits: _("the check digits do not match"),
    schwifty_errors.InvalidBBANChecksum: _("the check digits do not match"),
    schwifty_errors.InvalidCountryCode: _("unknown country code"),
    schwifty_errors.InvalidStructure: _("characters or structure not valid for its country"),
    schwifty_errors.InvalidBankCode: _("unknown bank code"),
}


def _account_error(exc: SchwiftyException) -> Promise | str:
    return ACCOUNT_ERRORS.get(type(exc), str(exc))


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
    wrong = _lazy_text(
        _("%(value)s is not a valid tax id for %(country)s (%(checks)s)."),
        {"value": repr(tax_id), "country": country, "checks": names},
    )
    return tax_id.strip(), wrong


def check_details(
    data: dict[str, Any], *, fields: tuple[str, ...] = STAFF_DETAILS
) -> tuple[dict, list[dict]]:
    """Normalised values of the given `fields` present in `data`, and the problems
    ({"loc": [field], "msg": …}). Values not given keep no default: merge with the payee's first."""
    clean: dict[str, Any] = {}
    problems: list[dict] = []
    for field in fields:
        if field in data:
            value = data[field]
            clean[field] = value.strip() if isinstance(value, str) else value
    if "country" in clean:
        clean["country"] = (clean["country"] or "").upper()
        if clean["country"] and pycountry.countries.get(alpha_2=clean["country"]) is None:
            problems.append(
                problem(
                    "country", _("%(value)s is not an ISO 3166 country code."), value=repr(clean["country"])
                )
            )
    if clean.get("tax_id"):
        clean["tax_id"], wrong = check_tax_id(clean.get("country") or "", clean["tax_id"])
        if wrong:
            problems.append({"loc": ["tax_id"], "msg": wrong})
    if clean.get("iban"):
        try:
            iban = IBAN(clean["iban"])
            clean["iban"] = iban.compact
            if not clean.get("bic") and iban.bic is not None:
                clean["bic"] = str(iban.bic)
        except SchwiftyException as exc:
            problems.append(problem("iban", _("Invalid IBAN: %(error)s"), error=_account_error(exc)))
    if clean.get("bic"):
        try:
            clean["bic"] = str(BIC(clean["bic"]))
        except SchwiftyException as exc:
            problems.append(problem("bic", _("Invalid BIC: %(error)s"), error=_account_error(exc)))
    for field in ("paypal_email", "wise_email"):
        if clean.get(field):
            try:
                validate_email(clean[field])
            except ValidationError:
                problems.append(not_an_email(field, clean[field]))
    if "payment_method" in clean and clean["payment_method"] not in PaymentMethod.values:
        problems.append(
            problem(
                "payment_method", _("Unknown payment method %(value)s."), value=repr(clean["payment_method"])
            )
        )
    if "vat_status" in clean and clean["vat_status"] not in VatStatus.values:
        problems.append(
            problem("vat_status", _("Unknown VAT status %(value)s."), value=repr(clean["vat_status"]))
        )
    if "withholding_rate" in clean:
        try:
            rate = Decimal(str(clean["withholding_rate"]))
            if not 0 <= rate <= 100:
                raise InvalidOperation
            clean["withholding_rate"] = rate
        except InvalidOperation:
            problems.append(
                problem("withholding_rate", _("The withholding rate is a percent from 0 to 100."))
            )
    return clean, problems


def not_an_email(field: str, value: str) -> dict[str, Any]:
    return problem(field, _("%(value)s is not an email address."), value=repr(value))


def currency_change_problems(payee: Payee, currency: str) -> list[dict[str, Any]]:
    """A payee's statement currency changes only while their balance in it is settled: statements
    read and post the ledger in the payee's currency, so an open balance in the old one (earnings
    not yet paid, an advance not yet recouped) would be left behind, read by no statement."""
    if payee.pk is None or not currency or currency == payee.currency:
        return []
    balance = ledger_balances(payee).get(payee.currency) or Decimal(0)
    if not balance:
        return []
    return [
        problem(
            "currency",
            _(
                "%(payee)s has an open balance of %(balance)s %(old)s: pay it or settle it with a ledger "
                "adjustment before changing their currency to %(new)s."
            ),
            payee=payee.name,
            balance=f"{rounded(balance, payee.currency):f}",
            old=payee.currency,
            new=currency,
        )
    ]


def method_problems(values: dict[str, Any]) -> list[dict]:
    """The chosen method needs its account: an IBAN, a PayPal or a Wise email."""
    needs = {
        PaymentMethod.IBAN: "iban",
        PaymentMethod.PAYPAL: "paypal_email",
        PaymentMethod.WISE: "wise_email",
    }
    field = needs.get(values.get("payment_method"))
    if field and not values.get(field):
        method = PaymentMethod(values["payment_method"]).label
        label = Payee._meta.get_field(field).verbose_name
        return [
            problem(field, _("Paid by %(method)s: %(account)s is required."), method=method, account=label)
        ]
    return []


def _checked(payee: Payee, data: dict[str, Any], fields: tuple[str, ...]) -> dict[str, Any]:
    clean, problems = check_details(data, fields=fields)
    merged = {field: getattr(payee, field) for field in STAFF_DETAILS} | clean
    problems += method_problems(merged)
    if problems:
        raise InvalidInput(
            "The payee details are not valid: " + " ".join(p["msg"] for p in english_problems(problems)),
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
