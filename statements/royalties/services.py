"""Writes of royalty accounting: splits, advances and other manual ledger entries, finalisation,
the zip of a run's statement documents (built in the background), the catalogue taken from the
sales files, and the actions that clear unmatched income."""

import csv
import io
import logging
import tempfile
from collections.abc import Callable, Iterator, Sequence
from datetime import timedelta
from decimal import Decimal
from operator import itemgetter

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from project import db, storage
from project.audit import record_action
from project.errors import Conflict, InvalidInput
from project.mail import queue_email
from project.roles import BACK_OFFICE, user_in_group
from statements import services as statement_services
from statements.cleaners.base import CLEAN_COLUMNS, Row
from statements.models import RateChange, SalesFile, StatementRun
from statements.royalties import documents, invoices, selectors
from statements.royalties import storage as statement_storage
from statements.royalties.calculation import allocate
from statements.royalties.models import (
    Contract,
    ContractRate,
    ContractSplit,
    LabelIncome,
    Payee,
    PayeeRate,
    RoyaltyAllocation,
    RoyaltyApproval,
    RoyaltyArchive,
    RoyaltyLedgerEntry,
    RoyaltyRun,
    RoyaltyStatement,
    RoyaltyStatementSet,
)
from statements.royalties.payee_details import (
    STAFF_DETAILS,
    check_details,
    currency_change_problems,
    english_problems,
    method_problems,
    not_an_email,
)
from statements.royalties.percent import fraction_of
from statements.royalties.presentation import payee_statement_data
from statements.royalties.problems import refusal_code

logger = logging.getLogger(__name__)
K = RoyaltyLedgerEntry.Kind
A = RoyaltyArchive.Status
# Longer than any zip takes to build (1,000 payees: about 7 minutes).
ARCHIVE_ABANDONED_AFTER = timedelta(hours=1)
MANUAL_KINDS = {K.ADVANCE, K.COST, K.PAYMENT, K.ADJUSTMENT}
HUNDRED = Decimal(100)


def set_splits(*, contract: Contract, shares: Sequence[tuple[Payee, Decimal]]) -> None:
    """Replace the contract's splits; the shares must add up to exactly 100 %."""
    total = sum((share for _, share in shares), Decimal(0))
    if total != HUNDRED:
        raise InvalidInput(f"Splits of contract {contract.name!r} add up to {total} %, not 100 %.")
    with transaction.atomic():
        contract.splits.all().delete()
        ContractSplit.objects.bulk_create(
            ContractSplit(contract=contract, payee=payee, share=share) for payee, share in shares
        )


def post_entry(
    *, payee: Payee, contract: Contract, kind: str, amount: Decimal, currency: str, date=None, memo: str = ""
) -> RoyaltyLedgerEntry:
    """An advance, recoupable cost or payment (a positive amount, debited) or an adjustment (signed)."""
    if kind not in MANUAL_KINDS:
        raise InvalidInput(
            f"Only {', '.join(sorted(MANUAL_KINDS))} entries are posted by hand; {kind!r} is not."
        )
    if kind != K.ADJUSTMENT:
        if amount <= 0:
            raise InvalidInput(f"An {kind} is a positive amount; got {amount}.")
        amount = -amount
    return RoyaltyLedgerEntry.objects.create(
        payee=payee,
        contract=contract,
        kind=kind,
        amount=amount,
        currency=currency,
        date=date or timezone.localdate(),
        memo=memo,
    )


def replace_payee_rates(*, run: StatementRun, items: list[dict], user: AbstractBaseUser | None) -> None:
    """Replace the run's payee currency rates with `items` (parsed by `rates.parse_payee_rates`),
    keeping history; Conflict `payee_rates_frozen` once the run is finalised."""
    with transaction.atomic():
        run = StatementRun.objects.select_for_update().get(pk=run.pk)
        if RoyaltyRun.objects.filter(run=run).exists():
            raise Conflict(
                f"The payee currency rates of run #{run.pk} are frozen: the run is finalised.",
                code="payee_rates_frozen",
            )
        own = [item for item in items if item["currency"] == run.currency]
        if own:
            raise InvalidInput(
                f"Run #{run.pk} is in {run.currency}: its payees in {run.currency} need no rate.",
                code="rate_set_invalid",
            )
        previous = [_rate_item(r.currency, r.rate, r.source, r.date) for r in run.payee_rates.all()]
        run.payee_rates.all().delete()
        PayeeRate.objects.bulk_create(
            PayeeRate(run=run, currency=i["currency"], rate=i["rate"], source=i["source"], date=i["date"])
            for i in items
        )
        RateChange.objects.create(
            run=run,
            kind=RateChange.Kind.PAYEE_RATES,
            items=[_rate_item(i["currency"], i["rate"], i["source"], i["date"]) for i in items],
            previous=previous,
            changed_by=_user(user),
        )
        record_action(
            "royalties.payee_rates_replaced",
            target=run,
            changes={"payee_rates": [len(previous), len(items)]},
            user=_user(user),
        )


def _rate_item(currency: str, rate: Decimal, source: str, day) -> dict:
    return {"currency": currency, "rate": str(rate), "source": source, "date": day.isoformat()}


def approve_run(*, run: StatementRun, user: AbstractBaseUser, fingerprint: str) -> RoyaltyApproval:
    """`user` approves the draft statements of `run` whose fingerprint they reviewed (four eyes:
    ROYALTY_FINALISE_APPROVALS); refused if the statements changed since."""
    if not user_in_group(user, BACK_OFFICE):
        raise InvalidInput("Only back-office staff approve statements.")
    if RoyaltyRun.objects.filter(run=run).exists():
        raise Conflict(f"Statement run #{run.pk} is already finalised.", code="run_finalized")
    _check_unchanged(run, fingerprint, selectors.fingerprint(run))
    approval, _ = RoyaltyApproval.objects.get_or_create(run=run, user=user, fingerprint=fingerprint)
    record_action(
        "statements.run_finalise_approved", target=run, changes={"fingerprint": fingerprint}, user=user
    )
    return approval


def approvers(run: StatementRun, fingerprint: str) -> list[AbstractBaseUser]:
    """Who approved these statements of `run`, first first."""
    return [approval.user for approval in RoyaltyApproval.objects.filter(run=run, fingerprint=fingerprint)]


def _check_unchanged(run: StatementRun, reviewed: str | None, current: str) -> None:
    if reviewed is not None and reviewed != current:
        raise Conflict(
            f"The statements of run #{run.pk} changed since they were reviewed; review them again.",
            code="statements_changed",
        )


def _check_approvals(run: StatementRun, fingerprint: str, user: AbstractBaseUser | None) -> None:
    """The finaliser is one approval; the others needed must come from different users."""
    needed = settings.ROYALTY_FINALISE_APPROVALS - 1
    others = {approver.pk for approver in approvers(run, fingerprint)} - {getattr(_user(user), "pk", None)}
    if len(others) < needed:
        raise Conflict(
            f"Statement run #{run.pk} needs the approval of {needed} other staff user(s) before it is "
            f"finalised; it has {len(others)}.",
            code="approval_required",
        )


def finalize_run(
    *, run: StatementRun, user: AbstractBaseUser | None = None, reviewed: str | None = None
) -> RoyaltyRun:
    """Post the run's statements to the ledger in one transaction and lock the run. `reviewed`: the
    fingerprint of the statements the user confirmed (refused if they changed since)."""
    with transaction.atomic():
        run = StatementRun.objects.select_for_update().get(pk=run.pk)
        if RoyaltyRun.objects.filter(run=run).exists():
            raise Conflict(f"Statement run #{run.pk} is already finalised.", code="run_finalized")
        # One finalisation at a time: each reads the balances the previous one posted.
        with connection.cursor() as cursor:
            cursor.execute("LOCK TABLE statements_royaltyrun IN EXCLUSIVE MODE")
        # The draft kept for today's inputs, else computed now: what was reviewed is what is posted.
        kept = statement_storage.statement_set(run)
        if kept.problems:
            raise Conflict(
                f"Statement run #{run.pk} cannot be finalised: " + " ".join(kept.problems),
                code=refusal_code(kept.problems),
                problems=kept.problems,
            )
        if reviewed is not None or settings.ROYALTY_FINALISE_APPROVALS > 1:
            _check_unchanged(run, reviewed, kept.digest)
            _check_approvals(run, kept.digest, user)
        # Before the allocations: the line detail leaves out lines paid by earlier runs only.
        statement_storage.write_line_detail(kept)
        royalty = RoyaltyRun.objects.create(run=run, sequence=kept.sequence, finalized_by=_user(user))
        try:
            with transaction.atomic():
                allocate(run, royalty.pk)
        except IntegrityError:
            raise Conflict(
                "Another run finalised at the same time paid some of these lines; compute again.",
                code="lines_allocated",
            ) from None
        RoyaltyLedgerEntry.objects.bulk_create(_entries(kept, royalty), batch_size=5000)
        statement_storage.finalise(kept, royalty)
        # The report's rate sets freeze with it, so the converted revenue stays what was paid.
        statement_services.record_report_generated(run=run)
        _email_statements(royalty)
        # In this transaction: a finalisation that rolls back gives its invoice numbers back.
        invoices.issue_for_run(royalty)
        record_action(
            "statements.run_finalised", target=run, changes={"royalty_run": royalty.pk}, user=_user(user)
        )
    return royalty


def _entries(kept: RoyaltyStatementSet, royalty: RoyaltyRun) -> list[RoyaltyLedgerEntry]:
    """The ledger entries of the statements `kept`: what each payee earned, held and had released
    per contract, and what each balance recouped and paid."""
    run = kept.run
    day = timezone.localdate()
    memo = f"{run.name} (run #{run.pk})"
    entries = []

    def entry(statement: RoyaltyStatement, contract_id, kind: str, amount: Decimal, **extra) -> None:
        if amount:
            entries.append(
                RoyaltyLedgerEntry(
                    payee_id=statement.payee_id,
                    contract_id=int(contract_id),
                    kind=kind,
                    amount=amount,
                    currency=statement.currency,
                    date=day,
                    royalty_run=royalty,
                    memo=memo,
                    **extra,
                )
            )

    for statement in kept.statements.order_by("position"):
        postings = statement.postings
        for contract_id, amount in postings["earnings"].items():
            entry(statement, contract_id, K.EARNINGS, Decimal(amount))
        for contract_id, amount in postings["reserve_held"].items():
            entry(statement, contract_id, K.RESERVE_HELD, -Decimal(amount))
        for held_id, contract_id, amount in postings["reserve_released"]:
            entry(statement, contract_id, K.RESERVE_RELEASED, Decimal(amount), releases_id=held_id)
        for pool in statement.balances:
            entry(statement, pool["lead_contract_id"], K.RECOUPMENT, Decimal(pool["recouped"]))
            entry(statement, pool["lead_contract_id"], K.PAYMENT, -Decimal(pool["payable"]))
    return entries


def _email_statements(royalty: RoyaltyRun) -> None:
    """Statements go by email, through the outbox, to the payees who asked for it."""
    wanted = set(Payee.objects.filter(email_statements=True).exclude(email="").values_list("pk", flat=True))
    if not wanted:
        return
    data = selectors.run_statements(royalty.run)
    for statement in data["statements"]:
        if statement["payee"]["id"] in wanted:
            queue_email(
                template="statements/royalty_statement",
                context={"run": data["run"], "statement": statement},
                to=[statement["payee"]["email"]],
            )


def _user(user: AbstractBaseUser | None):
    return user if user is not None and user.is_authenticated else None


# --- the zip of every payee's documents ------------------------------------------------------------


def statements_zip(*, run: StatementRun, data: dict) -> bytes | RoyaltyArchive:
    """The zip of these statements of `run` itself, up to ROYALTY_ZIP_INLINE_PAYEES statements;
    beyond, the RoyaltyArchive that holds it or is building it (`request_archive`)."""
    if len(data["statements"]) <= settings.ROYALTY_ZIP_INLINE_PAYEES:
        return documents.archive(data, payee_statements(run))
    return request_archive(run=run, data=data)


def payee_statements(run: StatementRun) -> Iterator[dict]:
    """Every payee's whole statement in `run`, one at a time (a zip of thousands never holds them all)."""
    kept = statement_storage.statement_set(run)
    statement_storage.write_line_detail(kept)
    for row in kept.statements.order_by("position"):
        yield payee_statement_data(row, run.currency)


def request_archive(*, run: StatementRun, data: dict, queue: bool = True) -> RoyaltyArchive:
    """The zip of these statements of `run`: the one already built or being built, else a new one
    whose building is queued (a failed one is queued again); `queue=False` when the caller builds it."""
    fingerprint = selectors.fingerprint(run)
    with transaction.atomic():
        archive, created = RoyaltyArchive.objects.select_for_update().get_or_create(
            run=run, fingerprint=fingerprint, defaults={"total": len(data["statements"])}
        )
        # A zip still queued or building long after it was asked for lost its worker: queue it again.
        abandoned = archive.status in (A.QUEUED, A.BUILDING) and archive.requested_at < (
            timezone.now() - ARCHIVE_ABANDONED_AFTER
        )
        if not created and archive.status != A.FAILED and not abandoned:
            return archive
        if not created:
            archive.status, archive.processed, archive.error, archive.finished_at = A.QUEUED, 0, "", None
            archive.requested_at = timezone.now()
            archive.save(update_fields=["status", "processed", "error", "finished_at", "requested_at"])
        if queue:
            transaction.on_commit(lambda: _queue_archive(archive.pk))
    return archive


def _queue_archive(archive_id: int) -> None:
    from django_q.tasks import async_task

    async_task(
        "statements.tasks.build_royalty_archive", archive_id, task_name=f"royalty-archive-{archive_id}"
    )


def build_archive(
    *, archive_id: int, on_progress: Callable[[int, int], None] | None = None
) -> RoyaltyArchive:
    """Render every payee's documents into the zip and store it; progress is saved per payee. The
    run's older zips are removed once this one is ready. FAILED (and the error raised again, for
    the task's record) when rendering or the storage fails, or when the statements changed."""
    archive = RoyaltyArchive.objects.select_related("run").get(pk=archive_id)
    if archive.status == A.READY:
        return archive
    RoyaltyArchive.objects.filter(pk=archive.pk).update(status=A.BUILDING, processed=0)

    def progress(done: int, total: int) -> None:
        RoyaltyArchive.objects.filter(pk=archive.pk).update(processed=done)
        if on_progress is not None:
            on_progress(done, total)

    try:
        data = selectors.run_statements(archive.run)
        if selectors.fingerprint(archive.run) != archive.fingerprint:
            raise Conflict(
                "The statements changed after this zip was requested; request it again.",
                code="statements_changed",
            )
        key = f"royalty-archives/run-{archive.run_id}/{archive.fingerprint[:16]}.zip"
        # Spooled to disk past 32 MB: a thousand payees' PDFs are too much to hold in memory.
        with tempfile.SpooledTemporaryFile(max_size=32 * 1024 * 1024) as sink:
            documents.write_archive(data, payee_statements(archive.run), sink, progress)
            sink.seek(0)
            storage.save(key, sink)
    except Exception as exc:
        RoyaltyArchive.objects.filter(pk=archive.pk).update(
            status=A.FAILED, error=str(exc)[:2000], finished_at=timezone.now()
        )
        raise
    RoyaltyArchive.objects.filter(pk=archive.pk).update(
        status=A.READY, storage_key=key, finished_at=timezone.now()
    )
    _remove_older_archives(archive)
    archive.refresh_from_db()
    return archive


def _remove_older_archives(archive: RoyaltyArchive) -> None:
    for older in RoyaltyArchive.objects.filter(run=archive.run_id, pk__lt=archive.pk):
        try:
            if older.storage_key:
                storage.delete(older.storage_key)
        except storage.Unavailable:  # the file stays behind; the row goes with the next zip
            logger.warning("could not delete %s; it is left in the storage", older.storage_key)
            continue
        older.delete()


# --- the catalogue ---------------------------------------------------------------------------------

# A few statements for a file of any size. The file's first line of each ISRC/UPC pair (its code,
# line number, artist, track and release titles) is staged in a temporary table: collected by the
# Python cleaner as it walks the lines and COPYed (a few thousand rows for a million lines), or,
# when the lines came some other way, found by one scan of them (an integer aggregate: a max() of
# the titles took three times as long as the import itself). Releases and tracks take their titles
# and artists from their first line, in code order so concurrent imports lock shared rows in the
# same order. Entries that have all they need are left out before the insert (ON CONFLICT would
# lock each of them), and an existing entry is only written to fill what is still empty (a title
# corrected by hand stays).
CODES_COLUMNS = ("isrc", "upc", "line_number", "artist", "title", "release")
CODES_SQL = (
    "DROP TABLE IF EXISTS catalogue_codes",
    """CREATE TEMP TABLE catalogue_codes ON COMMIT DROP AS
    SELECT l.isrc, l.upc, l.line_number, l.artist, l.title, l.release FROM (
      SELECT isrc, upc, min(line_number) AS line FROM statements_salesline
      WHERE sales_file_id = %s AND (isrc <> '' OR upc <> '') GROUP BY isrc, upc
    ) c JOIN statements_salesline l ON l.sales_file_id = %s AND l.line_number = c.line""",
    "ANALYZE catalogue_codes",
)
CODES_TABLE_SQL = """CREATE TEMP TABLE catalogue_codes (
  isrc text, upc text, line_number integer, artist text, title text, release text
) ON COMMIT DROP"""
RELEASES_SQL = """
INSERT INTO statements_release (upc, title, artists, label)
SELECT c.upc, c.release, c.artist, '' FROM (
  SELECT DISTINCT ON (upc) upc, release, artist FROM catalogue_codes WHERE upc <> ''
  ORDER BY upc, line_number
) c LEFT JOIN statements_release e ON e.upc = c.upc
WHERE e.id IS NULL OR (e.title = '' AND c.release <> '') OR (e.artists = '' AND c.artist <> '')
ORDER BY c.upc
ON CONFLICT (upc) DO UPDATE SET
  title = CASE WHEN statements_release.title = '' THEN EXCLUDED.title ELSE statements_release.title END,
  artists = CASE WHEN statements_release.artists = '' THEN EXCLUDED.artists ELSE statements_release.artists END
WHERE (statements_release.title = '' AND EXCLUDED.title <> '')
   OR (statements_release.artists = '' AND EXCLUDED.artists <> '')
"""
TRACKS_SQL = """
INSERT INTO statements_track (isrc, title, artists, release_id)
SELECT c.isrc, c.title, c.artist, r.id FROM (
  SELECT DISTINCT ON (isrc) isrc, upc, title, artist FROM catalogue_codes WHERE isrc <> ''
  ORDER BY isrc, line_number
) c LEFT JOIN statements_release r ON r.upc = c.upc AND c.upc <> ''
LEFT JOIN statements_track e ON e.isrc = c.isrc
WHERE e.id IS NULL OR (e.title = '' AND c.title <> '') OR (e.artists = '' AND c.artist <> '')
   OR (e.release_id IS NULL AND r.id IS NOT NULL)
ORDER BY c.isrc
ON CONFLICT (isrc) DO UPDATE SET
  title = CASE WHEN statements_track.title = '' THEN EXCLUDED.title ELSE statements_track.title END,
  artists = CASE WHEN statements_track.artists = '' THEN EXCLUDED.artists ELSE statements_track.artists END,
  release_id = coalesce(statements_track.release_id, EXCLUDED.release_id)
WHERE (statements_track.title = '' AND EXCLUDED.title <> '')
   OR (statements_track.artists = '' AND EXCLUDED.artists <> '')
   OR (statements_track.release_id IS NULL AND EXCLUDED.release_id IS NOT NULL)
"""
# The staged columns are text: empty ones too, not NULL.
CODES_COPY_OPTIONS = "FORMAT csv, FORCE_NOT_NULL (isrc, upc, artist, title, release)"
_FIRST_LINE = itemgetter(*map(CLEAN_COLUMNS.index, CODES_COLUMNS))
_CODES = itemgetter(CLEAN_COLUMNS.index("isrc"), CLEAN_COLUMNS.index("upc"))
# (isrc, upc) → its first line's CODES_COLUMNS: only those are kept, not the whole row.
FirstLines = dict[tuple[str, str], tuple]


def add_first_lines(first_lines: FirstLines, rows: Sequence[Row]) -> None:
    """Keep in `first_lines` each ISRC/UPC pair's first row, from the next rows of a file (in file
    order): one C-level dict of the rows' pairs (built from the reversed rows, so each pair's first
    row is the one that stays), then its pairs not seen before are added. (Not `keys() - keys()`:
    that walks every pair already kept, for each chunk.)"""
    chunk = dict(zip(map(_CODES, reversed(rows)), reversed(rows), strict=True))
    for pair, row in chunk.items():
        if pair not in first_lines:
            first_lines[pair] = _FIRST_LINE(row)


def record_catalogue(*, sales_file: SalesFile, first_lines: FirstLines | None = None) -> tuple[int, int]:
    """Add the releases (UPC) and tracks (ISRC) of a file's lines to the catalogue, each with the
    title and artist of its first line, filling what an existing entry still lacks; (releases,
    tracks) written. Called by the pipeline in the import's transaction, once the lines are in.
    `first_lines`: each ISRC/UPC pair's first cleaned line (`add_first_lines`), when the cleaner
    collected them as it walked the lines; else the file's lines are scanned for them."""
    drop, create, analyze = CODES_SQL
    with connection.cursor() as cursor:
        cursor.execute(drop)
        if first_lines is None:
            cursor.execute(create, [sales_file.pk, sales_file.pk])
        else:
            cursor.execute(CODES_TABLE_SQL)
            staged = io.StringIO()
            rows = (line for pair, line in first_lines.items() if pair != ("", ""))
            csv.writer(staged, lineterminator="\n").writerows(rows)
            staged.seek(0)
            db.copy_from("catalogue_codes", CODES_COLUMNS, staged, options=CODES_COPY_OPTIONS)
        cursor.execute(analyze)
        cursor.execute(RELEASES_SQL)
        releases = cursor.rowcount
        cursor.execute(TRACKS_SQL)
        return releases, cursor.rowcount


# --- unmatched income: into a contract's scope, or kept by the label -------------------------------

SCOPE_FIELDS = {
    LabelIncome.Scope.ISRC: "isrcs",
    LabelIncome.Scope.UPC: "upcs",
    LabelIncome.Scope.ARTIST: "artists",
}


def scope_value(scope: str, value: str) -> str:
    """A scope's value as contracts and lines hold it: codes upper-case, names with single spaces."""
    if scope not in SCOPE_FIELDS:
        raise InvalidInput(
            f"Unknown scope {scope!r}: one of {', '.join(SCOPE_FIELDS)}.", code="scope_invalid"
        )
    value = value.strip().upper() if scope != LabelIncome.Scope.ARTIST else " ".join(value.split())
    if not value:
        raise InvalidInput(f"Empty {scope}: name the lines to match.", code="scope_invalid")
    return value


def add_to_contract_scope(
    *, contract: Contract, scope: str, value: str, user: AbstractBaseUser | None = None
) -> bool:
    """Add an ISRC, UPC or artist to the contract's scope (its unmatched lines are then paid by it
    in every draft); False when it was already there."""
    value = scope_value(scope, value)
    field = SCOPE_FIELDS[scope]
    with transaction.atomic():
        contract = Contract.objects.select_for_update().get(pk=contract.pk)
        items = list(getattr(contract, field))
        if value in items:
            return False
        setattr(contract, field, [*items, value])
        contract.save(update_fields=[field])
        record_action(
            "royalties.scope_added",
            target=contract,
            changes={field: [items, getattr(contract, field)]},
            user=_user(user),
        )
    return True


def mark_label_income(
    *, scope: str, value: str, note: str = "", user: AbstractBaseUser | None = None
) -> LabelIncome:
    """The lines of this ISRC, UPC or artist that no contract matches are kept by the label: out of
    suspense, listed as label income. Marking it twice returns the first marking."""
    value = scope_value(scope, value)
    with transaction.atomic():
        label_income, created = LabelIncome.objects.get_or_create(
            scope=scope, value=value, defaults={"note": note[:300], "created_by": _user(user)}
        )
        if created:
            record_action(
                "royalties.label_income_marked",
                target=label_income,
                changes={"scope": scope, "value": value},
                user=_user(user),
            )
    return label_income


def unmark_label_income(*, label_income: LabelIncome, user: AbstractBaseUser | None = None) -> None:
    """Its lines are unmatched income again (in drafts; a finalised run keeps what it posted)."""
    with transaction.atomic():
        record_action(
            "royalties.label_income_unmarked",
            target=label_income,
            changes={"scope": label_income.scope, "value": label_income.value},
            user=_user(user),
        )
        label_income.delete()


# --- payees, contracts and ledger entries as the Royalties API writes them -------------------------

PAYEE_FIELDS = ("name", "email", "currency", "minimum_payout", "active", "email_statements")


def _refuse(code: str, what: str, problems: list[dict]) -> None:
    """Raise InvalidInput listing `problems` (each {"loc": [field, …], "msg"}), if any, in English
    (the APIs' language for errors)."""
    if problems:
        problems = english_problems(problems)
        raise InvalidInput(f"{what}: " + " ".join(p["msg"] for p in problems), code=code, problems=problems)


def save_payee(*, payee: Payee | None, data: dict, user: AbstractBaseUser | None = None) -> Payee:
    """Create a payee (`payee` None) or change the fields given in `data`; details (address, tax
    id, payment method…) are checked as the admin checks them. InvalidInput `payee_invalid`."""
    details, problems = check_details(data, fields=STAFF_DETAILS)
    if data.get("email"):
        try:
            validate_email(data["email"])
        except ValidationError:
            problems.append(not_an_email("email", data["email"]))
    with transaction.atomic():
        payee = Payee() if payee is None else Payee.objects.select_for_update().get(pk=payee.pk)
        created = payee.pk is None
        merged = {field: getattr(payee, field) for field in STAFF_DETAILS} | details
        problems += method_problems(merged) + currency_change_problems(payee, data.get("currency", ""))
        _refuse("payee_invalid", "The payee is not valid", problems)
        before = {field: str(getattr(payee, field)) for field in (*PAYEE_FIELDS, *STAFF_DETAILS)}
        for field, value in {**{f: data[f] for f in PAYEE_FIELDS if f in data}, **details}.items():
            setattr(payee, field, value.strip() if isinstance(value, str) else value)
        payee.save()
        changes = {
            field: [old, str(getattr(payee, field))]
            for field, old in before.items()
            if old != str(getattr(payee, field))
        }
        record_action(
            "royalties.payee_created" if created else "royalties.payee_changed",
            target=payee,
            changes=changes,
            user=_user(user),
        )
    payee.refresh_from_db()  # the values as stored (decimal places)
    return payee


def save_contract(*, contract: Contract | None, data: dict, user: AbstractBaseUser | None = None) -> Contract:
    """Create a contract (`contract` None) or replace one whole: scope, validity, rates and reserve
    (percent, stored as fractions exactly), splits (adding up to 100 %) and rate overrides.
    InvalidInput `contract_invalid` with a problem per field."""
    problems = []

    def problem(msg: str, *loc) -> None:
        problems.append({"loc": list(loc), "msg": msg})

    scopes = {}
    for field, scope in (("isrcs", "isrc"), ("upcs", "upc"), ("artists", "artist")):
        scopes[field] = list(dict.fromkeys(scope_value(scope, value) for value in data[field]))
    if data["valid_from"] and data["valid_to"] and data["valid_from"] > data["valid_to"]:
        problem("The contract ends before it starts.", "valid_to")
    same_name = Contract.objects.filter(name=data["name"].strip())
    if same_name.exclude(pk=getattr(contract, "pk", None)).exists():
        problem(f"A contract named {data['name'].strip()!r} exists already.", "name")
    payees = Payee.objects.in_bulk([split["payee"] for split in data["splits"]])
    seen = set()
    for i, split in enumerate(data["splits"]):
        if split["payee"] not in payees:
            problem(f"No payee with id {split['payee']}.", "splits", i, "payee")
        elif split["payee"] in seen:
            problem("This payee has a share already.", "splits", i, "payee")
        seen.add(split["payee"])
    total = sum((split["share"] for split in data["splits"]), Decimal(0))
    if total != HUNDRED:
        problem(f"The splits add up to {total} %, not 100 %.", "splits")
    overrides = set()
    for i, override in enumerate(data["rate_overrides"]):
        key = (override["sale_type"], override["dsp"].strip().lower(), override["territory"])
        if not override["dsp"].strip() and not override["territory"]:
            problem("A rate override names a DSP, a territory or both.", "rate_overrides", i)
        elif key in overrides:
            problem("Another override has this DSP, territory and sale type.", "rate_overrides", i)
        overrides.add(key)
    _refuse("contract_invalid", "The contract is not valid", problems)
    fields = {
        "name": data["name"].strip(),
        **scopes,
        "valid_from": data["valid_from"],
        "valid_to": data["valid_to"],
        **{f"rate_{kind}": fraction_of(rate) for kind, rate in data["rates"].items()},
        "reserve_rate": fraction_of(data["reserve_rate"]),
        "reserve_periods": data["reserve_periods"],
        "cross_collateral_group": data["cross_collateral_group"].strip(),
    }
    with transaction.atomic():
        created = contract is None
        contract = Contract() if created else Contract.objects.select_for_update().get(pk=contract.pk)
        for field, value in fields.items():
            setattr(contract, field, value)
        contract.save()
        set_splits(contract=contract, shares=[(payees[s["payee"]], s["share"]) for s in data["splits"]])
        contract.rate_overrides.all().delete()
        ContractRate.objects.bulk_create(
            ContractRate(
                contract=contract,
                sale_type=o["sale_type"],
                dsp=o["dsp"].strip(),
                territory=o["territory"],
                rate=fraction_of(o["rate"]),
            )
            for o in data["rate_overrides"]
        )
        record_action(
            "royalties.contract_created" if created else "royalties.contract_replaced",
            target=contract,
            changes={"splits": [[s["payee"], str(s["share"])] for s in data["splits"]]},
            user=_user(user),
        )
    return contract


def delete_contract(*, contract: Contract, user: AbstractBaseUser | None = None) -> None:
    """Delete a contract nothing was posted or paid under; Conflict `contract_in_use` otherwise."""
    with transaction.atomic():
        contract = Contract.objects.select_for_update().get(pk=contract.pk)
        if (
            RoyaltyLedgerEntry.objects.filter(contract=contract).exists()
            or RoyaltyAllocation.objects.filter(contract=contract).exists()
        ):
            raise Conflict(
                f"Contract {contract.name!r} has ledger entries or paid lines: it stays (end its validity instead).",
                code="contract_in_use",
            )
        record_action(
            "royalties.contract_deleted", target=contract, changes={"name": contract.name}, user=_user(user)
        )
        contract.delete()


def post_manual_entry(*, data: dict, user: AbstractBaseUser | None = None) -> RoyaltyLedgerEntry:
    """An advance, cost, payment or adjustment entered as the API takes it: a positive amount whose
    kind (an adjustment: its `direction`) gives the sign. InvalidInput `entry_invalid`."""
    problems = []
    payee = Payee.objects.filter(pk=data["payee"]).first()
    contract = Contract.objects.filter(pk=data["contract"]).first()
    if payee is None:
        problems.append({"loc": ["payee"], "msg": f"No payee with id {data['payee']}."})
    if contract is None:
        problems.append({"loc": ["contract"], "msg": f"No contract with id {data['contract']}."})
    elif payee is not None and not contract.splits.filter(payee=payee).exists():
        problems.append({"loc": ["payee"], "msg": f"{payee.name} has no share of {contract.name}."})
    if data["kind"] == K.ADJUSTMENT and data.get("direction") is None:
        problems.append({"loc": ["direction"], "msg": "An adjustment is a credit or a debit."})
    if data["kind"] != K.ADJUSTMENT and data.get("direction") is not None:
        problems.append({"loc": ["direction"], "msg": f"An {data['kind']} is always a debit."})
    _refuse("entry_invalid", "The ledger entry is not valid", problems)
    amount = data["amount"]
    if data["kind"] == K.ADJUSTMENT and data["direction"] == "debit":
        amount = -amount
    entry = post_entry(
        payee=payee,
        contract=contract,
        kind=data["kind"],
        amount=amount,
        currency=data.get("currency") or payee.currency,
        date=data.get("date"),
        memo=data.get("memo", ""),
    )
    record_action(
        "royalties.entry_posted",
        target=entry,
        changes={"kind": entry.kind, "amount": str(entry.amount)},
        user=_user(user),
    )
    return entry
