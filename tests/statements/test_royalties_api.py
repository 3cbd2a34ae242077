"""The Royalties API's contract (issue 23 item 7): payees, contracts in percent, the ledger with
positive amounts and Idempotency-Key, the catalogue, unmatched income and its actions, draft
statements; scopes (royalties:read cannot write, other scopes refused); 400 for a body the schema
refuses and 422 for values that do not hold together, both with problems per field."""

from decimal import Decimal as D

import pytest

from project.models import IdempotencyKey
from statements.royalties.models import Contract, ContractRate, Payee, RoyaltyLedgerEntry
from tests.statements.test_royalties import ISRC, processed_run

pytestmark = pytest.mark.django_db
API = "/api/royalties"


@pytest.fixture
def royalties(api_client, make_user):
    """A client whose token grants royalties:write only."""
    return api_client(user=make_user("label-system"), scopes=["royalties:write"])


def post(client, path: str, body, **headers):
    return client.post(f"{API}{path}", body, content_type="application/json", **headers)


def problems(response) -> dict[tuple, str]:
    return {tuple(p["loc"]): p["msg"] for p in response.json()["error"]["problems"]}


def new_payee(client, name: str = "Ana", **fields) -> dict:
    response = post(client, "/payees/", {"name": name, **fields})
    assert response.status_code == 201, response.content
    return response.json()


def contract_body(*payees, name: str = "Ana deal", **fields) -> dict:
    shares = fields.pop("shares", None) or [str(D(100) / len(payees))] * len(payees)
    return {
        "name": name,
        "isrcs": [ISRC.lower()],
        "rates": {"stream": "20", "download": "15", "physical": "10", "other": "12.5"},
        "splits": [{"payee": p["id"], "share": share} for p, share in zip(payees, shares, strict=True)],
        **fields,
    }


# --- payees ----------------------------------------------------------------------------------------


def test_payees_are_created_read_changed_and_listed(royalties):
    ana = new_payee(royalties, "Ana", email="ana@example.com", minimum_payout="25.50", country="it")
    assert ana["currency"] == "EUR" and ana["country"] == "IT" and D(ana["minimum_payout"]) == D("25.50")
    assert royalties.get(f"{API}/payees/{ana['id']}/").json() == ana
    changed = royalties.patch(
        f"{API}/payees/{ana['id']}/", {"email_statements": True}, content_type="application/json"
    )
    assert changed.status_code == 200 and changed.json()["email_statements"] is True
    assert changed.json()["email"] == "ana@example.com"  # fields not sent stay
    new_payee(royalties, "Bo")
    listed = royalties.get(f"{API}/payees/", {"search": "an"}).json()
    assert listed["count"] == 1 and [p["name"] for p in listed["items"]] == ["Ana"]
    missing = royalties.get(f"{API}/payees/999999/")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "payee_not_found"


def test_a_payee_body_the_schema_refuses_is_400_with_a_problem_per_field(royalties):
    response = post(royalties, "/payees/", {"name": "", "currency": "eur", "minimum_payout": "-1"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_input"
    assert set(problems(response)) == {
        ("body", "payload", "name"),
        ("body", "payload", "currency"),
        ("body", "payload", "minimum_payout"),
    }


def test_a_nul_character_in_any_text_is_400_not_a_500(royalties):
    """PostgreSQL text holds no NUL (Schemathesis sent one in a payee's name): every text field of
    the royalties bodies refuses it as bad input."""
    ana = new_payee(royalties)
    sent = {
        "/payees/": {"name": "A\x00na"},
        f"/payees/{ana['id']}/": {"address": "Via\x00 Roma"},
        "/contracts/": contract_body(ana, name="deal\x00"),
        "/contracts/?artists": contract_body(ana, artists=["Ana\x00"]),
    }
    for path, body in sent.items():
        path = path.split("?")[0]
        response = (royalties.patch if "/payees/" in path and path != "/payees/" else royalties.post)(
            f"{API}{path}", body, content_type="application/json"
        )
        assert response.status_code == 400, (path, response.content)
        assert response.json()["error"]["code"] == "invalid_input"


def test_payee_values_that_do_not_hold_are_422_with_a_problem_per_field(royalties):
    response = post(
        royalties, "/payees/", {"name": "Ana", "email": "not-mail", "country": "XX", "payment_method": "iban"}
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "payee_invalid"
    assert {("body", "payload", "email"), ("body", "payload", "country"), ("body", "payload", "iban")} <= set(
        problems(response)
    )
    assert not Payee.objects.exists()


# --- contracts -------------------------------------------------------------------------------------


def test_a_contract_is_written_in_percent_and_stored_exactly(royalties):
    ana, bo = new_payee(royalties, "Ana"), new_payee(royalties, "Bo")
    body = contract_body(
        ana,
        bo,
        shares=["60", "40"],
        reserve_rate="12.5",
        rate_overrides=[{"dsp": "Spotify", "territory": "US", "rate": "22.25"}],
        valid_from="2026-01",
    )
    response = post(royalties, "/contracts/", body)
    assert response.status_code == 201, response.content
    out = response.json()
    assert out["isrcs"] == [ISRC]  # codes upper-cased as lines hold them
    assert {k: D(v) for k, v in out["rates"].items()} == {
        "stream": D(20),
        "download": D(15),
        "physical": D(10),
        "other": D("12.5"),
    }
    assert [(s["payee"], D(s["share"])) for s in out["splits"]] == [(ana["id"], D(60)), (bo["id"], D(40))]
    assert D(out["reserve_rate"]) == D("12.5") and D(out["rate_overrides"][0]["rate"]) == D("22.25")
    stored = Contract.objects.get(pk=out["id"])
    assert (stored.rate_stream, stored.rate_other, stored.reserve_rate) == (D("0.2"), D("0.125"), D("0.125"))
    assert ContractRate.objects.get(contract=stored).rate == D("0.2225")
    assert royalties.get(f"{API}/contracts/{out['id']}/").json() == out

    replaced = royalties.put(
        f"{API}/contracts/{out['id']}/",
        contract_body(ana, name="Ana deal 2027", valid_from="2027-01"),
        content_type="application/json",
    )
    assert replaced.status_code == 200, replaced.content
    assert replaced.json()["splits"] == [{"payee": ana["id"], "share": "100"}]
    assert replaced.json()["rate_overrides"] == []
    assert royalties.get(f"{API}/contracts/", {"payee": bo["id"]}).json()["count"] == 0
    assert royalties.delete(f"{API}/contracts/{out['id']}/").status_code == 204
    assert not Contract.objects.exists()


def test_contract_values_that_do_not_hold_are_422_with_a_problem_per_field(royalties):
    ana = new_payee(royalties, "Ana")
    assert post(royalties, "/contracts/", contract_body(ana)).status_code == 201
    body = contract_body(ana, ana, shares=["50", "40"], valid_from="2026-05", valid_to="2026-01")
    body["splits"].append({"payee": 999999, "share": "10"})
    body["rate_overrides"] = [{"rate": "5"}]
    response = post(royalties, "/contracts/", body)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "contract_invalid"
    assert set(problems(response)) == {
        ("body", "payload", "name"),
        ("body", "payload", "valid_to"),
        ("body", "payload", "splits", 1, "payee"),
        ("body", "payload", "splits", 2, "payee"),
        ("body", "payload", "rate_overrides", 0),
    }
    ok_splits = contract_body(ana, name="Other", shares=["99.5"])
    assert problems(post(royalties, "/contracts/", ok_splits)) == {
        ("body", "payload", "splits"): "The splits add up to 99.5 %, not 100 %."
    }
    assert Contract.objects.count() == 1


def test_a_contract_body_the_schema_refuses_is_400(royalties):
    ana = new_payee(royalties, "Ana")
    body = contract_body(ana)
    body["rates"] = {"stream": "150", "download": "x"}
    body["valid_from"] = "2026-13"
    response = post(royalties, "/contracts/", body)
    assert response.status_code == 400
    locs = {loc[-2:] if loc[-2] == "rates" else loc[-1:] for loc in problems(response)}
    assert {("rates", "stream"), ("rates", "download"), ("rates", "physical"), ("valid_from",)} <= locs


def test_a_contract_with_entries_is_not_deleted(royalties):
    ana = new_payee(royalties, "Ana")
    contract = post(royalties, "/contracts/", contract_body(ana)).json()
    entry = {"payee": ana["id"], "contract": contract["id"], "kind": "advance", "amount": "10"}
    assert post(royalties, "/ledger/", entry).status_code == 201
    response = royalties.delete(f"{API}/contracts/{contract['id']}/")
    assert response.status_code == 409 and response.json()["error"]["code"] == "contract_in_use"


# --- ledger ----------------------------------------------------------------------------------------


@pytest.fixture
def deal(royalties):
    ana = new_payee(royalties, "Ana")
    return ana, post(royalties, "/contracts/", contract_body(ana)).json()


def test_entries_are_positive_and_their_kind_gives_the_sign(royalties, deal):
    ana, contract = deal
    base = {"payee": ana["id"], "contract": contract["id"]}
    sent = [
        ({"kind": "advance", "amount": "1000.00"}, D("-1000.00")),
        ({"kind": "cost", "amount": "50"}, D(-50)),
        ({"kind": "payment", "amount": "20", "memo": "paid by hand"}, D(-20)),
        ({"kind": "adjustment", "direction": "credit", "amount": "5.5"}, D("5.5")),
        ({"kind": "adjustment", "direction": "debit", "amount": "1"}, D(-1)),
    ]
    for body, effect in sent:
        response = post(royalties, "/ledger/", {**base, **body})
        assert response.status_code == 201, response.content
        out = response.json()
        assert D(out["amount"]) == D(body["amount"]) and D(out["balance_effect"]) == effect
        assert out["direction"] == ("credit" if effect > 0 else "debit")
        assert out["currency"] == "EUR" and out["royalty_run"] is None and out["date"]
        assert RoyaltyLedgerEntry.objects.get(pk=out["id"]).amount == effect
    listed = royalties.get(f"{API}/ledger/", {"payee": ana["id"], "kind": "adjustment"}).json()
    assert listed["count"] == 2
    one = royalties.get(f"{API}/ledger/{listed['items'][0]['id']}/")
    assert one.status_code == 200 and one.json() == listed["items"][0]


def test_entry_values_that_do_not_hold_are_422_and_a_bad_amount_400(royalties, deal):
    ana, contract = deal
    bo = new_payee(royalties, "Bo")
    response = post(
        royalties,
        "/ledger/",
        {"payee": bo["id"], "contract": contract["id"], "kind": "adjustment", "amount": "1"},
    )
    assert response.status_code == 422 and response.json()["error"]["code"] == "entry_invalid"
    assert set(problems(response)) == {("body", "payload", "payee"), ("body", "payload", "direction")}
    response = post(
        royalties, "/ledger/", {"payee": ana["id"], "contract": 999999, "kind": "advance", "amount": "1"}
    )
    assert set(problems(response)) == {("body", "payload", "contract")}
    response = post(
        royalties,
        "/ledger/",
        {"payee": ana["id"], "contract": contract["id"], "kind": "earnings", "amount": "-1"},
    )
    assert response.status_code == 400
    assert {loc[-1] for loc in problems(response)} == {"kind", "amount"}
    assert not RoyaltyLedgerEntry.objects.exists()


def test_an_idempotency_key_applies_a_post_once_and_replays_its_answer(royalties, deal):
    ana, contract = deal
    body = {"payee": ana["id"], "contract": contract["id"], "kind": "advance", "amount": "500"}
    first = post(royalties, "/ledger/", body, HTTP_IDEMPOTENCY_KEY="advance-2026-001")
    retry = post(royalties, "/ledger/", body, HTTP_IDEMPOTENCY_KEY="advance-2026-001")
    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json() and retry["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert RoyaltyLedgerEntry.objects.count() == 1
    other = post(royalties, "/ledger/", {**body, "amount": "600"}, HTTP_IDEMPOTENCY_KEY="advance-2026-001")
    assert other.status_code == 409 and other.json()["error"]["code"] == "idempotency_key_reused"
    assert RoyaltyLedgerEntry.objects.count() == 1
    # A refused request stores nothing: the key can be used again once the body is right.
    bad = post(royalties, "/ledger/", {**body, "kind": "adjustment"}, HTTP_IDEMPOTENCY_KEY="adj-1")
    assert bad.status_code == 422 and not IdempotencyKey.objects.filter(key="adj-1").exists()
    too_long = post(royalties, "/ledger/", body, HTTP_IDEMPOTENCY_KEY="k" * 256)
    assert too_long.status_code == 400 and RoyaltyLedgerEntry.objects.count() == 1
    created = post(royalties, "/payees/", {"name": "Cy"}, HTTP_IDEMPOTENCY_KEY="payee-cy")
    again = post(royalties, "/payees/", {"name": "Cy"}, HTTP_IDEMPOTENCY_KEY="payee-cy")
    assert again.json() == created.json() and Payee.objects.filter(name="Cy").count() == 1


# --- scopes ----------------------------------------------------------------------------------------


def test_a_read_token_reads_but_cannot_write_and_other_scopes_are_refused(api_client, make_user, deal):
    ana, _ = deal
    reader = api_client(user=make_user("reader"), scopes=["royalties:read"])
    assert reader.get(f"{API}/payees/").status_code == 200
    refused = post(reader, "/payees/", {"name": "Eve"})
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "token_scope"
    assert reader.patch(f"{API}/payees/{ana['id']}/", {}, content_type="application/json").status_code == 403
    statements = api_client(user=make_user("statements-only"), scopes=["statements:write", "exports:write"])
    assert statements.get(f"{API}/payees/").status_code == 403
    assert post(statements, "/ledger/", {}).status_code == 403
    from django.test import Client

    anonymous = Client().get(f"{API}/contracts/")
    assert anonymous.status_code == 401 and anonymous.json()["error"]["code"] == "unauthenticated"


# --- catalogue, unmatched income, drafts -----------------------------------------------------------


@pytest.fixture
def draft(flow, royalties, deal):
    """A processed draft run whose lines include one no contract matches ("Nobody Signed")."""
    ana, contract = deal
    return processed_run(flow), ana, contract


def test_the_catalogue_lists_what_the_sales_files_named(royalties, draft):
    tracks = royalties.get(f"{API}/tracks/", {"search": ISRC[:5]}).json()
    assert [t["isrc"] for t in tracks["items"]] == [ISRC]
    track = royalties.get(f"{API}/tracks/{tracks['items'][0]['id']}/").json()
    release = royalties.get(f"{API}/releases/{track['release']}/").json()
    assert release["upc"] == "8712345678901"
    assert royalties.get(f"{API}/releases/", {"search": "8712"}).json()["count"] == 1
    assert royalties.get(f"{API}/tracks/999999/").json()["error"]["code"] == "track_not_found"


def test_draft_statements_per_run_and_per_payee(royalties, draft):
    run, ana, _ = draft
    review = royalties.get(f"{API}/runs/{run.pk}/statements/").json()
    assert review["run"]["finalized"] is False
    assert [row["payee"]["id"] for row in review["payees"]] == [ana["id"]]
    assert review["totals"]["payees"] == 1 and review["totals"]["unmatched_groups"] == 1
    assert review["payees"][0]["summary"]["earnings"]["exact"]
    statement = royalties.get(f"{API}/runs/{run.pk}/statements/{ana['id']}/").json()
    assert statement["summary"] == review["payees"][0]["summary"] and statement["lines"]
    missing = royalties.get(f"{API}/runs/{run.pk}/statements/999999/")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "payee_statement_not_found"
    assert royalties.get(f"{API}/runs/999999/statements/").json()["error"]["code"] == "run_not_found"


def test_unmatched_income_goes_into_a_contract_or_to_the_label(royalties, draft):
    run, _, contract = draft
    unmatched = royalties.get(f"{API}/runs/{run.pk}/unmatched/").json()
    assert [g["artist"] for g in unmatched["groups"]] == ["Nobody Signed"]
    assert D(unmatched["total"]["exact"]) == D("0.50")
    assert len(royalties.get(f"{API}/runs/{run.pk}/unmatched/", {"search": "nobody"}).json()["groups"]) == 1
    assert royalties.get(f"{API}/runs/{run.pk}/unmatched/", {"dsp": "iTunes"}).json()["groups"] == []

    label = post(
        royalties, "/label-income/", {"scope": "artist", "value": " Nobody   Signed ", "note": "ours"}
    )
    assert label.status_code == 201 and label.json()["value"] == "Nobody Signed"
    after = royalties.get(f"{API}/runs/{run.pk}/unmatched/").json()
    assert after["groups"] == [] and [g["artist"] for g in after["label_income"]] == ["Nobody Signed"]
    assert [m["id"] for m in royalties.get(f"{API}/label-income/").json()] == [label.json()["id"]]
    assert royalties.delete(f"{API}/label-income/{label.json()['id']}/").status_code == 204

    added = post(
        royalties,
        "/unmatched/add-to-contract/",
        {"contract": contract["id"], "scope": "artist", "value": "Nobody Signed"},
    )
    assert added.status_code == 200 and added.json()["added"] is True
    assert added.json()["contract"]["artists"] == ["Nobody Signed"]
    assert royalties.get(f"{API}/runs/{run.pk}/unmatched/").json()["groups"] == []
    again = post(
        royalties,
        "/unmatched/add-to-contract/",
        {"contract": contract["id"], "scope": "artist", "value": "Nobody Signed"},
    )
    assert again.json()["added"] is False
    empty = post(royalties, "/label-income/", {"scope": "isrc", "value": "  "})
    assert empty.status_code == 422 and empty.json()["error"]["code"] == "scope_invalid"


def test_the_openapi_document_and_docs_page_describe_the_api(client, make_user):
    document = client.get(f"{API}/openapi.json")
    assert document.status_code == 200
    schema = document.json()
    assert schema["info"]["title"] == "Royalties API"
    post_entry = schema["paths"][f"{API}/ledger/"]["post"]
    assert [p["name"] for p in post_entry["parameters"] if p["in"] == "header"] == ["Idempotency-Key"]
    assert {"201", "400", "401", "403", "409", "422", "503"} <= set(post_entry["responses"])
    assert "ContractIn" in schema["components"]["schemas"]
    client.force_login(make_user("bea", groups=["back-office"]))
    assert client.get("/api/docs/royalties/").status_code == 200
    assert "/api/docs/royalties/" in client.get("/api/docs/").content.decode()
