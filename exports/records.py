"""Pure functions over Moneybird records: the fields we keep and the mutations between versions."""

from datetime import date, datetime
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

from django.utils.dateparse import parse_date, parse_datetime

from exports.models import MutationField

CENT = Decimal("0.01")


def to_decimal(value: Any) -> Decimal | None:
    """Moneybird sends amounts as strings ("12.10"); anything unparsable becomes None."""
    if value is None or value == "" or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def to_money(value: Any) -> Decimal | None:
    """An amount rounded to cents (half to even), as stored in the NUMERIC(16, 2) columns."""
    number = to_decimal(value)
    return None if number is None else number.quantize(CENT, rounding=ROUND_HALF_EVEN)


def to_date(value: Any) -> date | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return parse_date(value[:10])
    except ValueError:
        return None


def to_datetime(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return parse_datetime(value)
    except ValueError:
        return None


def document_fields(record: dict, doc_type: str, version: int) -> dict:
    """The Document columns for a Moneybird purchase_invoice or receipt record; `version` comes from
    the synchronization list (older API answers have no version in the record itself)."""
    contact = record.get("contact") or {}
    return {
        "type": doc_type,
        "version": version,
        "create_date": to_datetime(record.get("created_at")),
        "invoice_date": to_date(record.get("date")),
        "status": str(record.get("state") or ""),
        "contact": str(contact.get("company_name") or "")[:255],
        "reference": str(record.get("reference") or "")[:255],
        "currency": str(record.get("currency") or "")[:3],
        "total_excl_tax": to_money(record.get("total_price_excl_tax")),
        "total_incl_tax": to_money(record.get("total_price_incl_tax")),
        "raw": record,
    }


def _text(value: Any) -> str:
    if value is None:
        return ""
    return value.isoformat() if isinstance(value, date) else str(value)


def _money_text(value: Any) -> str:
    amount = to_money(value)
    return "" if amount is None else str(amount)


def _tax(record: dict) -> str:
    excl, incl = to_money(record.get("total_price_excl_tax")), to_money(record.get("total_price_incl_tax"))
    return "" if excl is None or incl is None else str(incl - excl)


def money_changes(old: dict, new: dict) -> list[tuple[str, str, str, str]]:
    """(fieldName, detail id, oldValue, newValue) for the money fields of two versions of a record:
    total (incl. tax), tax, and per detail line its amount (excl. tax, after discount), ledger account
    and tax rate. A line that appears or disappears is an amount change from or to nothing."""
    found = []
    total = (_money_text(old.get("total_price_incl_tax")), _money_text(new.get("total_price_incl_tax")))
    if total[0] != total[1]:
        found.append((MutationField.TOTAL, "", *total))
    if _tax(old) != _tax(new):
        found.append((MutationField.TAX, "", _tax(old), _tax(new)))
    old_lines = {str(line.get("id")): line for line in old.get("details") or []}
    new_lines = {str(line.get("id")): line for line in new.get("details") or []}
    for line_id in [*old_lines, *(key for key in new_lines if key not in old_lines)]:
        before, after = old_lines.get(line_id, {}), new_lines.get(line_id, {})
        amounts = [_money_text(line.get("total_price_excl_tax_with_discount")) for line in (before, after)]
        if amounts[0] != amounts[1] or not before or not after:
            found.append((MutationField.DETAIL_AMOUNT, line_id, *amounts))
        if not before or not after:
            continue
        for field, key in (
            (MutationField.LEDGER_ACCOUNT, "ledger_account_id"),
            (MutationField.TAX_RATE, "tax_rate_id"),
        ):
            if str(before.get(key) or "") != str(after.get(key) or ""):
                found.append((field, line_id, str(before.get(key) or ""), str(after.get(key) or "")))
    return found


def mutations_between(old: dict, new: dict) -> list[tuple[str, str, str, str]]:
    """(fieldName, detail id, oldValue, newValue) for a new version of an exported document.

    Status and invoice date changes carry both values, a type change carries the new type, money
    changes (`money_changes` between the stored and the new record) carry both values, and a
    version bump that touched none of those is a single "other" (as the original did).
    """
    names = {"status": MutationField.STATUS, "invoice_date": MutationField.INVOICE_DATE}
    found = []
    for field in ("status", "invoice_date"):
        if old[field] != new[field]:
            found.append((names[field], "", _text(old[field]), _text(new[field])))
    if old["type"] != new["type"]:
        found.append((MutationField.TYPE, "", "", new["type"]))
    if old["raw"]:  # documents stored before amounts were tracked have no record to compare with
        found.extend(money_changes(old["raw"], new["raw"]))
    if not found and new["version"] > old["version"]:
        found.append((MutationField.OTHER, "", "", ""))
    return found
