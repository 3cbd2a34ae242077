"""Royalty admin: contracts import and export as CSV/xlsx (django-import-export), splits checked
to add up to 100 %, the ledger cannot be edited."""

from decimal import Decimal as D

import pytest
import tablib
from django.test import Client

from statements.royalties.admin import ContractResource
from statements.royalties.models import Contract, Payee

pytestmark = pytest.mark.django_db

CSV = (
    "name,artists,upcs,isrcs,valid_from,valid_to,basis,rate_stream,rate_download,rate_physical,rate_other,"
    "reserve_rate,reserve_periods,cross_collateral_group,splits\n"
    "Ana deal,Ana,,NLA012600001; NLA012600002,2026-01,,net_receipts,0.20,0.15,0.12,0.10,0,0,,Ana: 60; Bo: 40\n"
    "Bad deal,Bo,,,,,net_receipts,0.20,0.15,0.12,0.10,0,0,,Ana: 60; Bo: 39.99\n"
)


@pytest.fixture
def payees():
    return Payee.objects.create(name="Ana"), Payee.objects.create(name="Bo")


def test_contracts_import_from_csv_with_splits_and_report_bad_rows(payees):
    result = ContractResource().import_data(tablib.Dataset().load(CSV, format="csv"), dry_run=False)
    assert [row.number for row in result.invalid_rows] == [2]
    assert "not 100 %" in str(result.invalid_rows[0].error_dict)
    contract = Contract.objects.get()
    assert contract.isrcs == ["NLA012600001", "NLA012600002"] and contract.valid_from == "2026-01"
    assert {(s.payee.name, s.share) for s in contract.splits.all()} == {("Ana", D("60")), ("Bo", D("40"))}


def test_contracts_export_round_trips(payees):
    ContractResource().import_data(
        tablib.Dataset().load(CSV.rsplit("Bad deal", 1)[0], format="csv"), dry_run=False
    )
    exported = ContractResource().export()
    assert exported.dict[0]["splits"] == "Ana: 60; Bo: 40"
    assert exported.dict[0]["isrcs"] == "NLA012600001; NLA012600002"
    assert exported.export("xlsx")[:2] == b"PK"


def test_admin_lists_and_refuses_ledger_edits(payees, make_user):
    from statements.royalties import services

    admin = make_user("root", staff=True)
    admin.is_superuser = True
    admin.save()
    client = Client()
    client.force_login(admin)
    ContractResource().import_data(
        tablib.Dataset().load(CSV.rsplit("Bad deal", 1)[0], format="csv"), dry_run=False
    )
    entry = services.post_entry(
        payee=payees[0], contract=Contract.objects.get(), kind="advance", amount=D("1000"), currency="EUR"
    )
    for url in ("payee", "contract", "royaltyledgerentry", "contract/import", "contract/export"):
        assert client.get(f"/admin/statements/{url}/").status_code == 200, url
    assert client.get(f"/admin/statements/royaltyledgerentry/{entry.pk}/delete/").status_code == 403
    page = client.get(f"/admin/statements/royaltyledgerentry/{entry.pk}/change/").content.decode()
    assert 'name="_save"' not in page
