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


def document_fields(record: dict, doc_type: str) -> dict:
    """The Document columns for a Moneybird purchase_invoice or receipt record."""
    contact = record.get("contact") or {}
    return {
        "type": doc_type,
        "version": int(record.get("version") or 0),
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


def mutations_between(old: dict, new: dict) -> list[tuple[str, str, str]]:
    """(fieldName, oldValue, newValue) for a new version of an exported document.

    Status and invoice date changes carry both values, a type change carries the new type, and a
    version bump that touched none of those is a single "other" (as the original did).
    """
    names = {"status": MutationField.STATUS, "invoice_date": MutationField.INVOICE_DATE}
    found = []
    for field in ("status", "invoice_date"):
        if old[field] != new[field]:
            found.append((names[field], _text(old[field]), _text(new[field])))
    if old["type"] != new["type"]:
        found.append((MutationField.TYPE, "", new["type"]))
    if not found and new["version"] > old["version"]:
        found.append((MutationField.OTHER, "", ""))
    return found
