"""Gapless invoice numbers under concurrency: eight transactions issue invoices at the same time
(each holds its number a moment before committing), a third of them roll back after taking one;
the numbers committed are exactly 1..n, none twice, none skipped."""

import threading
import time
from decimal import Decimal as D

import pytest
from django.db import connection, transaction

from statements.royalties import invoices, services
from statements.royalties.models import InvoiceCounter, Payee, SelfBillingInvoice
from tests.statements.test_royalties import HEADER, ISRC, contract, payee, processed_run

pytestmark = pytest.mark.django_db(transaction=True)  # each thread commits on its own connection
PAYEES = 8  # 12.5 % each
SALES = HEADER + f"2026-09,Spotify,Ana,{ISRC},,Song,NL,1000,120.00,EUR,stream\n"


class RolledBack(Exception):
    pass


def test_concurrent_issues_with_rollbacks_leave_no_gap(flow):
    payees = [payee(f"Payee {i:02d}", country="IT") for i in range(PAYEES)]
    contract(shares=[(p, str(D(100) / PAYEES)) for p in payees])
    royalty = services.finalize_run(run=processed_run(flow, SALES))
    assert not SelfBillingInvoice.objects.exists()  # nobody had opted in yet
    Payee.objects.update(self_billing=True)
    issuers = list(Payee.objects.order_by("pk"))
    start = threading.Barrier(len(issuers))
    outcomes: dict[int, str] = {}

    def issue(index: int, payee_: Payee) -> None:
        try:
            start.wait()
            with transaction.atomic():
                invoice = invoices.issue_invoice(royalty=royalty, payee=payee_)
                time.sleep(0.05)  # hold the counter's lock: the others queue behind it
                if index % 3 == 0:
                    raise RolledBack
            outcomes[payee_.pk] = f"issued {invoice.number}"
        except RolledBack:
            outcomes[payee_.pk] = "rolled back"
        finally:
            connection.close()

    threads = [threading.Thread(target=issue, args=(i, p)) for i, p in enumerate(issuers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    committed = sorted(SelfBillingInvoice.objects.values_list("number", flat=True))
    rolled_back = sum(1 for outcome in outcomes.values() if outcome == "rolled back")
    assert len(outcomes) == len(issuers) and rolled_back == (len(issuers) + 2) // 3
    assert committed == list(range(1, len(issuers) - rolled_back + 1))
    assert InvoiceCounter.objects.get(label="SB").last_number == len(committed)
