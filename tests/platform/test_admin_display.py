"""What staff read in the admin: money with its currency (minor unit in lists, exact on the detail
page), shares as percentages, JSON as lists and tables, choices and email kinds by label. (The
royalty ledger and contracts: tests/statements/test_royalty_forms.py.)"""

from decimal import Decimal as D

import pytest
from django.test import Client
from django.utils import translation

from project.admin_display import money, number, percent, readable


@pytest.mark.parametrize(
    ("amount", "currency", "exact", "shown"),
    [
        (D("-50.000000000000000000000000"), "EUR", False, "-50.00 EUR"),
        (D("-50.000000000000000000000000"), "EUR", True, "-50.00 EUR"),
        (D("1234.565"), "EUR", False, "1,234.56 EUR"),  # half-even, once
        (D("1234.5651"), "EUR", True, "1,234.5651 EUR"),
        (D("1500"), "JPY", False, "1,500 JPY"),
        (D("1.2345"), "KWD", False, "1.234 KWD"),
        (None, "EUR", False, "-"),
    ],
)
def test_money_has_its_currencys_minor_unit_or_every_digit(amount, currency, exact, shown):
    assert money(amount, currency, exact=exact) == shown


def test_money_and_shares_follow_the_readers_language():
    with translation.override("it"):
        assert money(D("1234.5"), "EUR") == "1.234,50 EUR"
        assert percent(D("0.125")) == "12,5 %"


def test_shares_are_percentages_and_rates_lose_their_padding():
    assert percent(D("0.5000000000")) == "50 %"
    assert percent(D("0.1234567890")) == "12.3456789 %"
    assert number(D("1.0876000000")) == "1.0876"


def test_json_is_a_list_or_a_table():
    assert readable(["600010020", "600010021"]) == "600010020, 600010021"
    assert readable([]) == "-"
    table = readable({"USD": {"lines": 3, "revenue": "1.23"}})
    assert "<th>USD</th>" in table and "<th>lines</th><td>3</td>" in table and "{" not in table
    assert readable([{"line": 2, "reason": "<b>"}]).count("<table") == 1 and "&lt;b&gt;" in readable(["<b>"])


@pytest.fixture
def root(make_user) -> Client:
    user = make_user("root", staff=True)
    user.is_superuser = True
    user.save()
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.django_db
def test_emails_show_recipients_and_kinds_in_words(root):
    from project.mail import queue_email

    queue_email(template="platform/test", context={}, to=["warehouse@localhost", "boss@localhost"])
    changelist = root.get("/admin/project/outboundemail/").content.decode()
    assert '<td class="field-kind_shown">Test email</td>' in changelist
    from project.models import OutboundEmail

    detail = root.get(f"/admin/project/outboundemail/{OutboundEmail.objects.get().pk}/change/")
    html = detail.content.decode()
    assert "warehouse@localhost, boss@localhost" in html and "[&quot;warehouse" not in html


@pytest.mark.django_db
def test_sales_file_totals_are_a_table_with_money(root, make_user):
    from statements.models import SalesFile

    sales_file = SalesFile.objects.create(
        name="apple.csv",
        totals={"USD": {"lines": 3, "units": 6190, "revenue": "1234.5678"}},
        declared={"units": "6190"},
        warnings=["a summary table after the sales"],
    )
    html = root.get(f"/admin/statements/salesfile/{sales_file.pk}/change/").content.decode()
    assert "<th>USD</th>" in html and "1,234.5678 USD" in html and "<th>units</th><td>6190</td>" in html
    assert "a summary table after the sales" in html and "{&quot;USD" not in html
    assert "apple.csv (Initialized)" in html  # the status by its label, not INITIALIZED
