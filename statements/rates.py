"""Pure parsers for exchange-rate sets and rate exceptions, from a JSON list or CSV text.

Both return (items, problems); a problem names the item (CSV line or 1-based list position).
"""

import csv
import re
from datetime import date
from decimal import Decimal, InvalidOperation

MAX_RATE_DECIMALS = 10
MAX_RATE = Decimal(10) ** 14
_PERIOD = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
_CURRENCY = re.compile(r"[A-Z]{3}")
RATE_FIELDS = ("currency", "period", "rate")
EXCEPTION_FIELDS = ("currency", "rate", "dsp", "salesfile", "period")
PAYEE_RATE_FIELDS = ("currency", "rate", "source", "date")


def valid_period(value: str) -> bool:
    return bool(_PERIOD.fullmatch(value))


def valid_currency(value: str) -> bool:
    return bool(_CURRENCY.fullmatch(value))


def storable(text: str) -> bool:
    """PostgreSQL text holds neither NUL characters nor lone surrogates."""
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return "\x00" not in text


def parse_rates(data: list | str) -> tuple[list[dict], list[str]]:
    """Run rates: items {"currency", "period", "rate"}, one per (currency, period)."""
    items, problems = [], []
    seen: dict[tuple, str] = {}
    for where, raw in _records(data, RATE_FIELDS, problems):
        item, errors = _common(raw)
        period = str(raw.get("period") or "").strip()
        if not valid_period(period):
            errors.append(f"period {period!r} is not YYYY-MM")
        if errors:
            problems.append(f"{where}: {'; '.join(errors)}")
            continue
        item["period"] = period
        key = (item["currency"], period)
        if key in seen:
            problems.append(f"{where}: duplicate rate for {key[0]} {period} (also {seen[key]})")
            continue
        seen[key] = where
        items.append(item)
    return items, problems


def parse_exceptions(data: list | str) -> tuple[list[dict], list[str]]:
    """Rate exceptions: {"currency", "rate"} plus "dsp" and/or "salesfile", optionally "period"."""
    items, problems = [], []
    seen: dict[tuple, str] = {}
    for where, raw in _records(data, EXCEPTION_FIELDS, problems):
        item, errors = _common(raw)
        dsp = str(raw.get("dsp") or "").strip()
        period = str(raw.get("period") or "").strip()
        salesfile = raw.get("salesfile")
        if salesfile in ("", None):
            salesfile = None
        else:
            try:
                salesfile = int(str(salesfile).strip())
            except ValueError:
                errors.append(f"salesfile {salesfile!r} is not a sales file id")
        if not dsp and salesfile is None:
            errors.append('an exception needs "dsp" or "salesfile"')
        if len(dsp) > 200:
            errors.append("dsp is longer than 200 characters")
        if not storable(dsp):
            errors.append("dsp holds characters that cannot be stored (NUL or a lone surrogate)")
        if period and not valid_period(period):
            errors.append(f"period {period!r} is not YYYY-MM")
        if errors:
            problems.append(f"{where}: {'; '.join(errors)}")
            continue
        item.update(dsp=dsp, salesfile=salesfile, period=period)
        key = (item["currency"], dsp.lower(), salesfile, period)
        if key in seen:
            problems.append(f"{where}: duplicate exception (also {seen[key]})")
            continue
        seen[key] = where
        items.append(item)
    return items, problems


def parse_payee_rates(data: list | str) -> tuple[list[dict], list[str]]:
    """Payee currency rates: items {"currency", "rate", "source", "date"}, one per currency; 1 unit
    of the run's currency is worth `rate` of `currency`."""
    items, problems = [], []
    seen: dict[str, str] = {}
    for where, raw in _records(data, PAYEE_RATE_FIELDS, problems):
        item, errors = _common(raw)
        source = str(raw.get("source") or "").strip()
        if not source:
            errors.append("source is empty: name where the rate comes from")
        elif len(source) > 200 or not storable(source):
            errors.append("source is longer than 200 characters or holds characters that cannot be stored")
        text = str(raw.get("date") or "").strip()
        try:
            quoted = date.fromisoformat(text)
        except ValueError:
            quoted = None
            errors.append(f"date {text!r} is not YYYY-MM-DD")
        if errors:
            problems.append(f"{where}: {'; '.join(errors)}")
            continue
        item.update(source=source, date=quoted)
        if item["currency"] in seen:
            problems.append(f"{where}: duplicate rate for {item['currency']} (also {seen[item['currency']]})")
            continue
        seen[item["currency"]] = where
        items.append(item)
    return items, problems


def _records(data: list | str, fields: tuple[str, ...], problems: list[str]):
    """(label, dict) pairs from a JSON list or from CSV text with a header row."""
    if isinstance(data, list):
        for position, raw in enumerate(data, start=1):
            if isinstance(raw, dict):
                yield f"item {position}", raw
            else:
                problems.append(f"item {position}: expected an object with {', '.join(fields)}")
        return
    lines = data.removeprefix("\ufeff").splitlines()
    if not lines:
        return
    separator = ";" if lines[0].count(";") > lines[0].count(",") else ","
    reader = csv.reader(lines, delimiter=separator)
    header = [name.strip().lower() for name in next(reader)]
    if not set(header) & set(fields):
        # No header: the columns come in the documented order.
        reader = csv.reader(lines, delimiter=separator)
        header = list(fields)
    for values in reader:
        if not any(value.strip() for value in values):
            continue
        yield f"line {reader.line_num}", dict(zip(header, values, strict=False))


def _common(raw: dict) -> tuple[dict, list[str]]:
    errors = []
    currency = str(raw.get("currency") or "").strip().upper()
    if not valid_currency(currency):
        errors.append(f"currency {currency!r} is not an ISO 4217 code")
    rate = None
    text = str(raw.get("rate") if raw.get("rate") is not None else "").strip().replace(",", ".")
    try:
        rate = Decimal(text)
    except InvalidOperation:
        errors.append(f"rate {text!r} is not a number")
    if rate is not None:
        if not rate.is_finite() or rate <= 0 or rate >= MAX_RATE:
            errors.append(f"rate {text!r} must be a positive number")
        elif rate.as_tuple().exponent < -MAX_RATE_DECIMALS:
            errors.append(f"rate {text!r} has more than {MAX_RATE_DECIMALS} decimal places")
    return {"currency": currency, "rate": rate}, errors
