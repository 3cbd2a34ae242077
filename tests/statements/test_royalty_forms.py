"""Royalty forms people can use (issue 23 item 2): rates in percent stored as exact fractions,
scopes as plain lists, ledger amounts entered positive with the kind giving the sign, dates
defaulting to today, payee and contract picked by name, money shown rounded with its currency in
lists and exact on the entry's page; the documented contracts example imports."""

from decimal import Decimal as D
from pathlib import Path

import pytest
import tablib
from django.test import Client
from django.utils import timezone

from statements.royalties.admin import ContractResource
from statements.royalties.forms import ContractForm, LedgerEntryForm, PercentField
from statements.royalties.models import Contract, Payee, RoyaltyLedgerEntry

pytestmark = pytest.mark.django_db
EXAMPLE = Path(__file__).resolve().parents[2] / "fixtures" / "royalties" / "contracts-example.csv"


@pytest.fixture
def admin_client(make_user) -> Client:
    user = make_user("root", staff=True)
    user.is_superuser = True
    user.save()
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def deal() -> Contract:
    contract = Contract.objects.create(
        name="Deal",
        artists=["Ana"],
        rate_stream=D("0.2"),
        rate_download=D("0.15"),
        rate_physical=D("0.1"),
        rate_other=D("0.1"),
    )
    return contract


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("25", D("0.25")),
        ("12.5", D("0.125")),
        ("0.00000001", D("0.0000000001")),
        ("100", D("1")),
        ("0", D(0)),
    ],
)
def test_percent_field_cleans_to_the_exact_fraction(typed, stored):
    value = PercentField().clean(typed)
    assert value == stored and value == D(typed) / 100


def test_percent_field_refuses_more_than_100_and_more_digits_than_stored():
    for typed in ("100.01", "-1", "12.123456789"):
        with pytest.raises(Exception):
            PercentField().clean(typed)


def contract_data(**extra) -> dict:
    return {
        "name": "Seelenluft deal",
        "artists": "Seelenluft",
        "upcs": "",
        "isrcs": "nla012600001, NLA012600002\nNLA012600002",
        "valid_from": "2026-01",
        "valid_to": "",
        "basis": "net_receipts",
        "rate_stream": "20",
        "rate_download": "15",
        "rate_physical": "12.5",
        "rate_other": "7.25",
        "reserve_rate": "10",
        "reserve_periods": "2",
        "cross_collateral_group": "",
        **extra,
    }


def test_contract_form_takes_percent_and_plain_lists():
    form = ContractForm(data=contract_data())
    assert form.is_valid(), form.errors
    contract = form.save()
    contract.refresh_from_db()
    assert contract.artists == ["Seelenluft"]
    assert contract.isrcs == ["NLA012600001", "NLA012600002"]
    assert contract.upcs == []
    assert (contract.rate_stream, contract.rate_physical, contract.rate_other, contract.reserve_rate) == (
        D("0.2"),
        D("0.125"),
        D("0.0725"),
        D("0.1"),
    )
    # Shown again as typed: percent, the scope as the items picked, no JSON.
    html = str(ContractForm(instance=contract))
    assert 'name="rate_physical" value="12.5"' in html and 'value="7.25"' in html
    isrcs = str(ContractForm(instance=contract)["isrcs"])
    assert (
        '<option value="NLA012600001" selected>' in isrcs
        and '<option value="NLA012600002" selected>' in isrcs
    )
    assert "[" not in str(ContractForm(instance=contract)["artists"]) and "<textarea" not in html


def test_artist_names_keep_their_commas():
    form = ContractForm(data=contract_data(artists="Earth, Wind & Fire\n  Seelenluft \n"))
    assert form.is_valid(), form.errors
    assert form.cleaned_data["artists"] == ["Earth, Wind & Fire", "Seelenluft"]


def test_contract_admin_add_with_splits_in_percent(admin_client):
    ana, bo = Payee.objects.create(name="Ana"), Payee.objects.create(name="Bo")
    page = admin_client.get("/admin/statements/contract/add/").content.decode()
    assert "[]</textarea>" not in page and "Seelenluft" in page  # the help text, no JSON pre-filled
    data = contract_data()
    data.update(
        {
            "splits-TOTAL_FORMS": "2",
            "splits-INITIAL_FORMS": "0",
            "splits-0-payee": str(ana.pk),
            "splits-0-share": "60",
            "splits-1-payee": str(bo.pk),
            "splits-1-share": "40",
            "rate_overrides-TOTAL_FORMS": "1",
            "rate_overrides-INITIAL_FORMS": "0",
            "rate_overrides-0-dsp": "Spotify",
            "rate_overrides-0-territory": "",
            "rate_overrides-0-sale_type": "",
            "rate_overrides-0-rate": "33.3",
        }
    )
    response = admin_client.post("/admin/statements/contract/add/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    contract = Contract.objects.get(name="Seelenluft deal")
    assert {(s.payee.name, s.share) for s in contract.splits.all()} == {("Ana", D(60)), ("Bo", D(40))}
    assert contract.rate_overrides.get().rate == D("0.333")
    listing = admin_client.get("/admin/statements/contract/").content.decode()
    assert "20 %" in listing and "15 %" in listing


def test_ledger_form_kind_gives_the_sign(deal):
    ana = Payee.objects.create(name="Ana", currency="CHF")
    expected = {
        "advance": D("-1000.5"),
        "cost": D("-20"),
        "adjustment_credit": D("3.25"),
        "adjustment_debit": D("-0.01"),
    }
    amounts = {"advance": "1000.50", "cost": "20", "adjustment_credit": "3.25", "adjustment_debit": "0.01"}
    for kind, amount in amounts.items():
        form = LedgerEntryForm(
            data={
                "payee": ana.pk,
                "contract": deal.pk,
                "entry_kind": kind,
                "amount": amount,
                "currency": "",
                "date": "2026-11-30",
                "memo": kind,
            }
        )
        assert form.is_valid(), form.errors
        assert form.cleaned_data["amount"] == expected[kind] and form.cleaned_data["currency"] == "CHF"
    for bad in ("-1000", "0"):
        form = LedgerEntryForm(
            data={
                "payee": ana.pk,
                "contract": deal.pk,
                "entry_kind": "advance",
                "amount": bad,
                "date": "2026-11-30",
            }
        )
        assert not form.is_valid() and "amount" in form.errors


def test_ledger_admin_posts_a_positive_advance_by_name_and_today(admin_client, deal):
    ana = Payee.objects.create(name="Ana")
    page = admin_client.get("/admin/statements/royaltyledgerentry/add/").content.decode()
    assert f'value="{timezone.localdate().isoformat()}"' in page
    assert "admin-autocomplete" in page  # payee and contract picked by name, not by id
    assert 'name="entry_kind"' in page and 'name="kind"' not in page
    response = admin_client.post(
        "/admin/statements/royaltyledgerentry/add/",
        {
            "payee": ana.pk,
            "contract": deal.pk,
            "entry_kind": "advance",
            "amount": "1234.5678",
            "currency": "",
            "date": timezone.localdate().isoformat(),
            "memo": "signing",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    entry = RoyaltyLedgerEntry.objects.get()
    assert (entry.kind, entry.amount, entry.currency, entry.date) == (
        "advance",
        D("-1234.5678"),
        "EUR",
        timezone.localdate(),
    )
    listing = admin_client.get("/admin/statements/royaltyledgerentry/").content.decode()
    assert '<td class="field-amount_shown">-1,234.57 EUR</td>' in listing
    detail = admin_client.get(f"/admin/statements/royaltyledgerentry/{entry.pk}/change/").content.decode()
    assert "-1,234.5678 EUR" in detail
    autocomplete = admin_client.get(
        "/admin/autocomplete/",
        {"term": "An", "app_label": "statements", "model_name": "royaltyledgerentry", "field_name": "payee"},
    ).json()
    assert [r["text"] for r in autocomplete["results"]] == ["Ana"]


def test_money_in_lists_follows_the_currency_minor_unit(admin_client):
    Payee.objects.create(name="Yen payee", currency="JPY", minimum_payout=D("1500.5"))
    Payee.objects.create(name="Dinar payee", currency="KWD", minimum_payout=D("12.3456"))
    listing = admin_client.get("/admin/statements/payee/").content.decode()
    assert "1,500 JPY" in listing and "12.346 KWD" in listing  # half-even: 1500.5 → 1500


def test_the_documented_example_file_imports():
    Payee.objects.create(name="Seelenluft")
    Payee.objects.create(name="Aurora Lane")
    Payee.objects.create(name="Mika Sato")
    result = ContractResource().import_data(
        tablib.Dataset().load(EXAMPLE.read_text(encoding="utf-8"), format="csv"), dry_run=False
    )
    assert not result.has_errors() and not result.invalid_rows
    seelenluft = Contract.objects.get(name="Seelenluft catalogue")
    assert seelenluft.artists == ["Seelenluft"] and seelenluft.rate_physical == D("0.125")
    aurora = Contract.objects.get(name="Aurora Lane album")
    assert aurora.isrcs == ["NLA012600001", "NLA012600002"] and aurora.upcs == ["0731452312345"]
    assert (aurora.rate_stream, aurora.reserve_rate, aurora.reserve_periods) == (D("0.25"), D("0.1"), 2)
    assert {(s.payee.name, s.share) for s in aurora.splits.all()} == {
        ("Aurora Lane", D(60)),
        ("Mika Sato", D(40)),
    }
    # Every documented column is one the import knows.
    header = EXAMPLE.read_text(encoding="utf-8").splitlines()[0].split(",")
    documented = (Path(__file__).resolve().parents[2] / "docs" / "royalties.md").read_text(encoding="utf-8")
    assert all(f"`{column}`" in documented for column in header)
