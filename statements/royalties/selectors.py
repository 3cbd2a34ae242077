"""Reads of royalty accounting: a run's statements (as finalised, or a draft computed from today's
inputs, kept until they change), one payee's statement, their unmatched income by track, and the
catalogue."""

from decimal import Decimal

from django.db.models import Q, QuerySet, Sum

from project.errors import NotFound
from project.money import EXACT
from statements.models import StatementRun
from statements.royalties import fx, storage
from statements.royalties.models import (
    MEMO_KINDS,
    Contract,
    LabelIncome,
    Payee,
    Release,
    RoyaltyArchive,
    RoyaltyLedgerEntry,
    RoyaltyRun,
    RoyaltyStatement,
    Track,
)
from statements.royalties.presentation import (
    PayeeLines,
    figure,
    payee_statement_data,
    run_data,
    run_statements_data,
)


def run_statements(run: StatementRun) -> dict:
    """The statements of `run`: a finalised run's as posted, a draft's from today's inputs (each
    payee's summary and balances; `payee_statement` for one payee's breakdowns and lines)."""
    kept = storage.statement_set(run)
    return run_statements_data(kept, storage.presented_figures(kept))


def statements_run(run: StatementRun) -> dict:
    """The run as its statements show it (`run_statements(run)["run"]`, without the statements)."""
    return run_data(storage.statement_set(run))


def fingerprint(run: StatementRun) -> str:
    """What a reviewer confirms: the digest of the inputs of the statements they saw."""
    return storage.statement_set(run).digest


def totals(data: dict) -> dict:
    """A run's statements in a few figures (the finalise confirmation): payees, what is payable
    now and what is carried forward (per payee currency), the unmatched (suspense) revenue and its
    share of the revenue."""
    currency = data["run"]["currency"]
    statements = data["statements"]
    by_currency = _totals_by_currency(statements, ("payable", "carried_forward"))
    unmatched = Decimal(data["unallocated_total"]["exact"])
    revenue = Decimal(data["revenue_total"]["exact"]) if "revenue_total" in data else None
    share = EXACT.divide(EXACT.multiply(unmatched, 100), revenue) if revenue else None
    return {
        "currency": currency,
        "payees": len(statements),
        "payees_paid": sum(1 for s in statements if Decimal(s["summary"]["payable"]["exact"]) > 0),
        "payable": {c: figures["payable"] for c, figures in by_currency.items()},
        "carried_forward": {c: figures["carried_forward"] for c, figures in by_currency.items()},
        "unmatched": data["unallocated_total"],
        "label_income": data.get("label_income_total"),
        "label_income_groups": len(data.get("label_income", [])),
        "unmatched_groups": len(data["unallocated"]),
        "unmatched_percent": None if share is None else share.quantize(Decimal("0.1")),
        "revenue": data.get("revenue_total"),
        "problems": data["problems"],
    }


def _totals_by_currency(statements: list[dict], names) -> dict[str, dict]:
    """{payee currency: {name: figure}} summed over the statements in that currency, the run's first."""
    exact: dict[str, dict[str, Decimal]] = {}
    for statement in statements:
        sums = exact.setdefault(statement["currency"], dict.fromkeys(names, Decimal(0)))
        for name in names:
            sums[name] = EXACT.add(sums[name], Decimal(statement["summary"][name]["exact"]))
    return {
        currency: {name: figure(amount, currency) for name, amount in sums.items()}
        for currency, sums in sorted(
            exact.items(), key=lambda item: (item[0] != _run_currency(statements), item[0])
        )
    }


def _run_currency(statements: list[dict]) -> str:
    return statements[0]["run_currency"] if statements else ""


REVIEW_COLUMNS = (
    "opening",
    "earnings",
    "reserve_held",
    "reserve_released",
    "recouped",
    "closing",
    "payable",
    "carried_forward",
)
UNMATCHED_SHOWN = 50  # the largest groups on the review page; the API lists them all


def review(data: dict) -> dict:
    """The per-payee table of a run's statements (REVIEW_COLUMNS, in each payee's currency) with its
    totals per currency, and the largest unmatched groups first."""
    statements = data["statements"]
    unmatched = sorted(data["unallocated"], key=lambda group: -Decimal(group["revenue"]["exact"]))
    return {
        "rows": [
            {
                "payee": s["payee"],
                "currency": s["currency"],
                "exchange": s["exchange"],
                "figures": [s["summary"][name] for name in REVIEW_COLUMNS],
            }
            for s in statements
        ],
        "totals": [
            {"currency": currency, "figures": [figures[name] for name in REVIEW_COLUMNS]}
            for currency, figures in _totals_by_currency(statements, REVIEW_COLUMNS).items()
        ],
        "unmatched": unmatched[:UNMATCHED_SHOWN],
        "unmatched_more": max(len(unmatched) - UNMATCHED_SHOWN, 0),
    }


def _statement_row(run: StatementRun, payee_id: int, *, lines: bool) -> RoyaltyStatement:
    """The payee's statement row; with `lines`, their line detail written first when it is not yet."""
    kept = storage.statement_set(run)
    row = kept.statements.filter(payee_id=payee_id).first()
    if row is None:
        raise NotFound(
            f"payee {payee_id} has no statement in run #{run.pk}", code="payee_statement_not_found"
        )
    if lines:
        storage.write_line_detail(kept, payee_id)
    return row


def payee_statement(run: StatementRun, payee_id: int, *, lines: bool = True) -> dict:
    """One payee's statement in `run`: summary, balances, breakdowns and (with `lines`) every line."""
    return payee_statement_data(_statement_row(run, payee_id, lines=lines), run.currency, lines=lines)


def payee_lines(run: StatementRun, payee_id: int) -> PayeeLines:
    """One payee's line detail in `run`, read a page at a time."""
    return PayeeLines(_statement_row(run, payee_id, lines=True), run.currency)


def missing_payee_rates(run: StatementRun) -> dict[str, list[str]]:
    """{currency: payees} for the currencies of payees with a share in a contract that differ from
    the run's and have no rate in it yet (the draft statements name those they need)."""
    payees = Payee.objects.filter(splits__isnull=False).distinct().only("name", "currency")
    return fx.unrated(run, payees, fx.payee_rates(run))


def is_finalized(run: StatementRun) -> bool:
    return RoyaltyRun.objects.filter(run=run).exists()


def archive(run: StatementRun, archive_id: int) -> RoyaltyArchive:
    found = RoyaltyArchive.objects.filter(run=run, pk=archive_id).first()
    if found is None:
        raise NotFound(f"run #{run.pk} has no statements zip {archive_id}", code="archive_not_found")
    return found


def latest_archive(run: StatementRun) -> RoyaltyArchive | None:
    return RoyaltyArchive.objects.filter(run=run).first()


# --- unmatched income ------------------------------------------------------------------------------

GROUP_KEY = ("isrc", "upc", "artist")


def unmatched_groups(groups: list[dict], currency: str) -> list[dict]:
    """A run's unmatched (or label income) lines by track: one group per ISRC, UPC and artist with
    its title, DSPs, months, lines and revenue, the largest first."""
    merged: dict[tuple, dict] = {}
    for group in groups:
        key = tuple(group[name] for name in GROUP_KEY)
        item = merged.get(key)
        if item is None:
            item = merged[key] = {
                **dict(zip(GROUP_KEY, key, strict=True)),
                "title": "",
                "dsps": set(),
                "periods": set(),
                "lines": 0,
                "units": 0,
                "exact": Decimal(0),
            }
        item["title"] = item["title"] or group["title"] or ""
        item["dsps"].add(group["dsp"])
        item["periods"].add(group["period"])
        item["lines"] += group["lines"]
        item["units"] += group["units"]
        item["exact"] = EXACT.add(item["exact"], Decimal(group["revenue"]["exact"]))
    for item in merged.values():
        item["dsps"], item["periods"] = sorted(item["dsps"]), sorted(item["periods"])
        item["revenue"] = figure(item.pop("exact"), currency)
    return sorted(
        merged.values(), key=lambda item: (-Decimal(item["revenue"]["exact"]), *(item[n] for n in GROUP_KEY))
    )


def search_groups(groups: list[dict], *, search: str = "", dsp: str = "") -> list[dict]:
    """`search`: part of the ISRC, UPC, artist or title (any case); `dsp`: groups this DSP sold (their
    figures stay whole)."""
    needle = search.strip().casefold()
    return [
        group
        for group in groups
        if (not needle or any(needle in group[name].casefold() for name in (*GROUP_KEY, "title")))
        and (not dsp or dsp in group["dsps"])
    ]


def unmatched_dsps(groups: list[dict]) -> list[str]:
    return sorted({group["dsp"] for group in groups})


def group_scopes(group: dict) -> list[tuple[str, str]]:
    """The ways a group can be matched, most specific first: (scope, value) for its ISRC, UPC, artist."""
    return [(scope, group[scope]) for scope in GROUP_KEY if group.get(scope)]


def contract_prefill(group: dict) -> dict[str, str]:
    """A new contract's fields from an unmatched group: named after its artist and title, scoped by
    its most specific code (the ISRC, else the UPC, else the artist)."""
    scope, value = group_scopes(group)[0]
    name = " - ".join(part for part in (group.get("artist"), group.get("title")) if part) or value
    return {"name": name[:200], f"{scope}s": value}


def label_income() -> QuerySet[LabelIncome]:
    return LabelIncome.objects.select_related("created_by")


# --- the catalogue ---------------------------------------------------------------------------------

SUGGESTIONS = 20


def catalogue_suggestions(*, scope: str, search: str) -> list[dict[str, str]]:
    """Up to SUGGESTIONS catalogue entries for a contract's scope field: `isrc` tracks, `upc`
    releases, `artist` artist names, each {"id": the value stored, "text": what is shown}, matching
    `search` in the code, title or artist."""
    search = search.strip()
    if scope == "isrc":
        tracks = Track.objects.filter(
            Q(isrc__istartswith=search) | Q(title__icontains=search) | Q(artists__icontains=search)
        )
        return [{"id": t.isrc, "text": str(t)} for t in tracks.order_by("isrc")[:SUGGESTIONS]]
    if scope == "upc":
        releases = Release.objects.filter(
            Q(upc__startswith=search) | Q(title__icontains=search) | Q(artists__icontains=search)
        )
        return [{"id": r.upc, "text": str(r)} for r in releases.order_by("upc")[:SUGGESTIONS]]
    names = (
        Track.objects.filter(artists__icontains=search)
        .values_list("artists", flat=True)
        .union(Release.objects.filter(artists__icontains=search).values_list("artists", flat=True))
        .order_by("artists")
    )
    return [{"id": name, "text": name} for name in names[:SUGGESTIONS] if name]


# --- the Royalties API's reads ---------------------------------------------------------------------


def _one(queryset: QuerySet, pk: int, what: str):
    found = queryset.filter(pk=pk).first()
    if found is None:
        raise NotFound(f"no {what} with id {pk}", code=f"{what.replace(' ', '_')}_not_found")
    return found


def payees(*, search: str = "", active: bool | None = None) -> QuerySet[Payee]:
    found = Payee.objects.all()
    if search.strip():
        found = found.filter(Q(name__icontains=search.strip()) | Q(email__icontains=search.strip()))
    return found if active is None else found.filter(active=active)


def get_payee(payee_id: int) -> Payee:
    return _one(Payee.objects.all(), payee_id, "payee")


def contracts(*, search: str = "", payee: int | None = None) -> QuerySet[Contract]:
    found = Contract.objects.prefetch_related("splits", "rate_overrides")
    if search.strip():
        found = found.filter(name__icontains=search.strip())
    return found if payee is None else found.filter(splits__payee=payee).distinct()


def get_contract(contract_id: int) -> Contract:
    return _one(contracts(), contract_id, "contract")


def ledger_entries(
    *, payee: int | None = None, contract: int | None = None, kind: str = ""
) -> QuerySet[RoyaltyLedgerEntry]:
    found = RoyaltyLedgerEntry.objects.all()
    if payee is not None:
        found = found.filter(payee_id=payee)
    if contract is not None:
        found = found.filter(contract_id=contract)
    return found.filter(kind=kind) if kind else found


def get_ledger_entry(entry_id: int) -> RoyaltyLedgerEntry:
    return _one(RoyaltyLedgerEntry.objects.all(), entry_id, "ledger entry")


def releases(*, search: str = "") -> QuerySet[Release]:
    search = search.strip()
    found = Release.objects.all()
    if search:
        found = found.filter(
            Q(upc__startswith=search) | Q(title__icontains=search) | Q(artists__icontains=search)
        )
    return found


def get_release(release_id: int) -> Release:
    return _one(Release.objects.all(), release_id, "release")


def tracks(*, search: str = "", release: int | None = None) -> QuerySet[Track]:
    search = search.strip()
    found = Track.objects.all()
    if search:
        found = found.filter(
            Q(isrc__istartswith=search) | Q(title__icontains=search) | Q(artists__icontains=search)
        )
    return found if release is None else found.filter(release_id=release)


def get_track(track_id: int) -> Track:
    return _one(Track.objects.all(), track_id, "track")


def get_label_income(label_income_id: int) -> LabelIncome:
    return _one(LabelIncome.objects.all(), label_income_id, "label income")


def ledger_balances(payee: Payee) -> dict[str, Decimal]:
    """The payee's ledger balance per currency, exact (memos, MEMO_KINDS, are not counted: see the
    ledger)."""
    rows = (
        RoyaltyLedgerEntry.objects.filter(payee=payee)
        .exclude(kind__in=MEMO_KINDS)
        .values("currency")
        .annotate(total=Sum("amount"))
        .order_by("currency")
    )
    return {row["currency"]: row["total"] for row in rows}
