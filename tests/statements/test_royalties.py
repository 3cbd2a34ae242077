"""Royalty statements: expected figures computed here with plain Decimal arithmetic, independently
of the calculation, for splits, rates, recoupment, minimum payout, reserves, suspense and reruns."""

from decimal import Decimal as D

import pytest
from django.db import DatabaseError, transaction

from project.errors import Conflict, InvalidInput
from statements.royalties import selectors, services
from statements.royalties.calculation import compute
from statements.royalties.models import Contract, Payee, RoyaltyLedgerEntry

pytestmark = pytest.mark.django_db

HEADER = "period,dsp,artist,isrc,upc,title,territory,units,revenue,currency,sale_type\n"
ISRC = "NLA012600001"
SALES = HEADER + (
    f"2026-09,Spotify,Ana,{ISRC},8712345678901,Song,NL,1000,3.3333,EUR,stream\n"
    f"2026-09,iTunes,Ana,{ISRC},8712345678901,Song,DE,3,2.07,EUR,download\n"
    f"2026-08,Spotify,Ana,{ISRC},8712345678901,Song,US,700,1.1113,USD,stream\n"
    "2026-09,Spotify,Nobody Signed,,,Other,NL,10,0.50,EUR,stream\n"
)


def contract(name="Ana deal", *, shares, stream="0.20", download="0.15", **fields) -> Contract:
    fields.setdefault("isrcs", [ISRC])
    c = Contract.objects.create(
        name=name,
        rate_stream=D(stream),
        rate_download=D(download),
        rate_physical=D("0.10"),
        rate_other=D("0.10"),
        **fields,
    )
    services.set_splits(contract=c, shares=[(payee, D(share)) for payee, share in shares])
    return c


def payee(name, **fields) -> Payee:
    return Payee.objects.create(name=name, currency="EUR", **fields)


def processed_run(flow, content: str = SALES, *, file_id: int | None = None):
    from statements.models import StatementRun

    run_id = flow.create_run(currency="EUR")
    if file_id is None:
        # Tests build several runs from the same sales: the same bytes again, on purpose.
        flow.processed_file(content.encode(), run_id, duplicate_reason="the same sales in another test run")
    else:
        flow.add_file(run_id, file_id)
    assert flow.rates(run_id, [{"currency": "USD", "period": "2026-08", "rate": "0.9"}]).status_code == 200
    return StatementRun.objects.get(pk=run_id)


def finalised_summary(run) -> dict:
    """The first payee's summary of `run` once finalised, as read back."""
    services.finalize_run(run=run)
    return selectors.run_statements(run)["statements"][0]["summary"]


def by_payee(result) -> dict[str, object]:
    return {s.payee.name: s for s in result.statements}


# Independent expectation: converted revenue x rate, per line, then the share.
ANA_ROYALTY = D("3.3333") * D("0.20") + D("2.07") * D("0.15") + D("1.1113") * D("0.9") * D("0.20")


def test_two_payees_split_a_track_60_40_with_rates_by_sale_type(flow):
    ana, bo = payee("Ana"), payee("Bo")
    contract(shares=[(ana, "60"), (bo, "40")])
    result = compute(processed_run(flow))
    statements = by_payee(result)
    assert statements["Ana"].total("earnings") == ANA_ROYALTY * D("0.6")
    assert statements["Bo"].total("earnings") == ANA_ROYALTY * D("0.4")
    assert statements["Ana"].total("payable") == ANA_ROYALTY * D("0.6")
    assert result.problems == []


def test_splits_must_add_up_to_exactly_100_percent():
    c = Contract.objects.create(name="x", rate_stream=1, rate_download=1, rate_physical=1, rate_other=1)
    with pytest.raises(InvalidInput, match=r"99\.99 %"):
        services.set_splits(contract=c, shares=[(payee("Ana"), D("59.99")), (payee("Bo"), D("40"))])


def test_a_line_matching_no_contract_is_shown_as_unallocated(flow):
    contract(shares=[(payee("Ana"), "100")])
    result = compute(processed_run(flow))
    assert [(g["artist"], g["lines"], g["revenue"]) for g in result.suspense] == [
        ("Nobody Signed", 1, D("0.50"))
    ]


def test_isrc_scope_wins_over_artist_scope(flow):
    ana, label = payee("Ana"), payee("Label")
    contract(shares=[(ana, "100")])
    contract("Artist deal", shares=[(label, "100")], isrcs=[], artists=["Ana", "Nobody Signed"])
    statements = by_payee(compute(processed_run(flow)))
    assert statements["Ana"].total("earnings") == ANA_ROYALTY
    # Only the unsigned artist's line falls to the artist-level contract.
    assert statements["Label"].total("earnings") == D("0.50") * D("0.20")


def test_advance_is_recouped_across_two_finalised_runs(flow):
    ana = payee("Ana")
    deal = contract(shares=[(ana, "100")], stream="0.5", download="0.5")
    services.post_entry(payee=ana, contract=deal, kind="advance", amount=D("1000.00"), currency="EUR")
    big = HEADER + f"2026-09,Spotify,Ana,{ISRC},,Song,NL,1,700.00,EUR,stream\n"
    summary = finalised_summary(processed_run(flow, big))
    assert summary["earnings"]["amount"] == "350.00"
    assert summary["recouped"]["amount"] == "350.00"
    assert summary["payable"]["amount"] == "0.00"
    assert summary["closing"]["amount"] == str(D("-1000.00") + D("350.00"))
    bigger = HEADER + f"2026-10,Spotify,Ana,{ISRC},,Song,NL,1,1500.00,EUR,stream\n"
    summary = finalised_summary(processed_run(flow, bigger))
    assert summary["opening"]["amount"] == "-650.00"
    assert summary["recouped"]["amount"] == "650.00"
    assert D(summary["payable"]["amount"]) == D("-650.00") + D("1500.00") * D("0.5")
    assert summary["carried_forward"]["amount"] == "0.00"


def test_a_payee_under_the_minimum_payout_is_carried_forward(flow):
    ana = payee("Ana", minimum_payout=D("50"))
    contract(shares=[(ana, "100")])
    run = processed_run(flow)
    summary = finalised_summary(run)
    assert summary["payable"]["exact"] == "0"
    assert D(summary["carried_forward"]["exact"]) == ANA_ROYALTY
    again = HEADER + f"2026-10,Spotify,Ana,{ISRC},,Song,NL,1,300.00,EUR,stream\n"
    summary = finalised_summary(processed_run(flow, again))
    assert D(summary["opening"]["exact"]) == ANA_ROYALTY
    assert D(summary["payable"]["exact"]) == ANA_ROYALTY + D("300.00") * D("0.20")


def test_a_reserve_is_held_on_downloads_and_released_after_n_runs(flow):
    ana = payee("Ana")
    contract(shares=[(ana, "100")], reserve_rate=D("0.25"), reserve_periods=2)
    first = finalised_summary(processed_run(flow))
    held = D("2.07") * D("0.15") * D("0.25")
    assert D(first["reserve_held"]["exact"]) == held
    assert D(first["payable"]["exact"]) == ANA_ROYALTY - held
    stream = HEADER + f"2026-10,Spotify,Ana,{ISRC},,Song,NL,1,10.00,EUR,stream\n"
    second = finalised_summary(processed_run(flow, stream))
    assert second["reserve_released"]["exact"] == "0"
    stream = HEADER + f"2026-11,Spotify,Ana,{ISRC},,Song,NL,1,10.00,EUR,stream\n"
    third = finalised_summary(processed_run(flow, stream))
    assert D(third["reserve_released"]["exact"]) == held
    assert D(third["payable"]["exact"]) == D("10.00") * D("0.20") + held


def test_a_second_run_over_a_finalised_file_allocates_nothing_twice(flow):
    ana = payee("Ana")
    contract(shares=[(ana, "100")])
    first = processed_run(flow)
    services.finalize_run(run=first)
    file_id = first.sales_files.get().pk
    result = compute(processed_run(flow, file_id=file_id))
    assert result.statements == [] or by_payee(result)["Ana"].total("earnings") == 0
    assert result.already_allocated == 3
    with pytest.raises(Conflict, match="already finalised"):
        services.finalize_run(run=first)


def test_the_ledger_is_append_only(flow):
    ana = payee("Ana")
    deal = contract(shares=[(ana, "100")])
    entry = services.post_entry(payee=ana, contract=deal, kind="advance", amount=D("5"), currency="EUR")
    with pytest.raises(ValueError, match="append-only"):
        entry.save()
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        RoyaltyLedgerEntry.objects.filter(pk=entry.pk).update(amount=0)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        RoyaltyLedgerEntry.objects.filter(pk=entry.pk).delete()


def test_api_serves_statements_and_finalises_once(flow, api):
    ana, bo = payee("Ana"), payee("Bo")
    contract(shares=[(ana, "60"), (bo, "40")])
    run = processed_run(flow)
    response = api.get(f"/api/statement_run/{run.pk}/statements/")
    assert response.status_code == 200, response.content
    data = response.json()
    assert data["run"]["finalized"] is False
    ana_data = next(s for s in data["statements"] if s["payee"]["name"] == "Ana")
    expected = ANA_ROYALTY * D("0.6")
    assert D(ana_data["summary"]["earnings"]["exact"]) == expected
    assert ana_data["summary"]["earnings"]["amount"] == str(expected.quantize(D("0.01")))
    assert [g["artist"] for g in data["unallocated"]] == ["Nobody Signed"]
    assert api.post(f"/api/statement_run/{run.pk}/finalize/").status_code == 200
    again = api.post(f"/api/statement_run/{run.pk}/finalize/")
    assert again.status_code == 409 and again.json()["error"]["code"] == "run_finalized"
    assert api.get(f"/api/statement_run/{run.pk}/statements/").json()["run"]["finalized"] is True
    xlsx = api.get(f"/api/statement_run/{run.pk}/statements/{ana.pk}.xlsx")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    assert api.get(f"/api/statement_run/{run.pk}/statements/999999.pdf").status_code == 404


def test_a_finalised_run_takes_no_more_files_or_rates(flow, api):
    contract(shares=[(payee("Ana"), "100")])
    run = processed_run(flow)
    services.finalize_run(run=run)
    other = flow.create_file("more.csv")
    response = api.post(
        f"/api/statement_run/{run.pk}/add-salesfile/", {"file_id": other}, content_type="application/json"
    )
    assert response.status_code == 409 and response.json()["error"]["code"] == "run_finalized"
    assert flow.rates(run.pk, [{"currency": "USD", "period": "2026-08", "rate": "2"}]).status_code == 409


def test_cross_collateralised_contracts_recoup_each_others_advances_others_do_not(flow):
    ana = payee("Ana")
    first = contract(shares=[(ana, "100")], cross_collateral_group="Ana catalogue")
    second = contract(
        "Nobody deal",
        shares=[(ana, "100")],
        isrcs=[],
        artists=["Nobody Signed"],
        cross_collateral_group="Ana catalogue",
    )
    services.post_entry(payee=ana, contract=second, kind="advance", amount=D("100"), currency="EUR")
    statement = by_payee(compute(processed_run(flow)))["Ana"]
    earnings = ANA_ROYALTY + D("0.50") * D("0.20")
    assert statement.total("recouped") == earnings  # the first contract's earnings repay the second's advance
    assert statement.total("payable") == 0 and statement.total("closing") == earnings - 100
    Contract.objects.filter(pk__in=[first.pk, second.pk]).update(cross_collateral_group="")
    statement = by_payee(compute(processed_run(flow)))["Ana"]
    assert statement.total("recouped") == D("0.50") * D("0.20")
    assert statement.total("payable") == ANA_ROYALTY  # not held back by the other contract's advance


def test_statements_are_emailed_through_the_outbox_to_payees_who_opted_in(flow):
    from project.models import OutboundEmail

    ana = payee("Ana", email="ana@example.com", email_statements=True)
    bo = payee("Bo", email="bo@example.com")
    contract(shares=[(ana, "60"), (bo, "40")])
    services.finalize_run(run=processed_run(flow))
    (email,) = OutboundEmail.objects.all()
    assert email.to == ["ana@example.com"] and "Royalty statement" in email.subject
    assert str((ANA_ROYALTY * D("0.6")).quantize(D("0.01"))) in email.text_body


def test_a_file_paid_by_a_finalised_run_is_not_processed_again(flow):
    contract(shares=[(payee("Ana"), "100")])
    run = processed_run(flow)
    services.finalize_run(run=run)
    response = flow.process(run.sales_files.get().pk)
    assert response.status_code == 409 and response.json()["error"]["code"] == "salesfile_paid"


def test_a_carried_balance_gets_a_statement_in_a_run_without_earnings(flow):
    ana = payee("Ana", minimum_payout=D("50"))
    contract(shares=[(ana, "100")])
    services.finalize_run(run=processed_run(flow))
    unsigned = HEADER + "2026-10,Spotify,Nobody Signed,,,Other,NL,10,0.50,EUR,stream\n"
    statement = by_payee(compute(processed_run(flow, unsigned)))["Ana"]
    assert statement.total("opening") == ANA_ROYALTY == statement.carried_forward
    assert statement.earnings_by_contract == {}
