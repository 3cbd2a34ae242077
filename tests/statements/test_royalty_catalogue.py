"""The catalogue: releases and tracks upserted from every processed sales file (one statement per
table, not per line), corrections kept, and the contract's scope picked from it."""

import pytest
from django.contrib import admin
from django.db import connection
from django.forms import JSONField
from django.test import Client
from django.test.utils import CaptureQueriesContext

from statements import pipeline
from statements.cleaners.base import CLEAN_COLUMNS
from statements.models import SalesFile, SalesLine
from statements.royalties import selectors, services
from statements.royalties.models import Release, Track

pytestmark = pytest.mark.django_db

HEADER = "period,dsp,artist,isrc,upc,title,release,territory,units,revenue,currency,sale_type\n"
SALES = HEADER + (
    "2026-09,Spotify,Seelenluft,NLA012600001,8712345678901,Manila,Synchronschwimmer,NL,1000,3.33,EUR,stream\n"
    "2026-09,iTunes,Seelenluft,NLA012600001,8712345678901,Manila,Synchronschwimmer,DE,3,2.07,EUR,download\n"
    "2026-09,Spotify,Seelenluft,NLA012600002,8712345678901,Out Of The Sun,Synchronschwimmer,NL,5,0.10,EUR,stream\n"
    "2026-09,Spotify,Ana,NLA012600003,,Loose Track,,NL,5,0.10,EUR,stream\n"
    "2026-09,Spotify,Nobody Signed,,,Other,,NL,10,0.50,EUR,stream\n"
)


def test_a_processed_file_fills_the_catalogue(flow):
    file_id = flow.processed_file(SALES.encode())
    assert SalesFile.objects.get(pk=file_id).status == "PROCESSED"
    release = Release.objects.get()
    assert (release.upc, release.title, release.artists, release.label) == (
        "8712345678901",
        "Synchronschwimmer",
        "Seelenluft",
        "",
    )
    tracks = {t.isrc: (t.title, t.artists, t.release_id) for t in Track.objects.all()}
    assert tracks == {
        "NLA012600001": ("Manila", "Seelenluft", release.pk),
        "NLA012600002": ("Out Of The Sun", "Seelenluft", release.pk),
        "NLA012600003": ("Loose Track", "Ana", None),
    }


def test_a_later_file_fills_gaps_and_keeps_corrections(flow):
    Track.objects.create(isrc="NLA012600001", title="Manila (corrected)", artists="")
    flow.processed_file(SALES.encode())
    track = Track.objects.get(isrc="NLA012600001")
    assert (track.title, track.artists, track.release.upc) == (
        "Manila (corrected)",
        "Seelenluft",
        "8712345678901",
    )
    again = SALES.replace("3.33", "3.34")  # other bytes, same catalogue
    flow.processed_file(again.encode(), name="again.csv")
    assert Track.objects.count() == 3 and Release.objects.count() == 1
    assert Track.objects.get(isrc="NLA012600001").title == "Manila (corrected)"


def test_the_upsert_is_a_few_statements_whatever_the_lines(flow):
    file_id = flow.processed_file(SALES.encode())
    sales_file = SalesFile.objects.get(pk=file_id)
    Track.objects.all().delete()
    Release.objects.all().delete()
    with CaptureQueriesContext(connection) as queries:
        assert services.record_catalogue(sales_file=sales_file) == (1, 3)
    assert len(queries) == 5  # the file's codes staged and analysed once, then one upsert per table
    # Nothing to fill: no row is rewritten.
    assert services.record_catalogue(sales_file=sales_file) == (0, 0)


def catalogue() -> tuple[set, set]:
    releases = set(Release.objects.values_list("upc", "title", "artists", "label"))
    tracks = set(Track.objects.values_list("isrc", "title", "artists", "release__upc"))
    return releases, tracks


def test_first_lines_collected_by_the_cleaner_write_what_the_scan_writes(flow):
    file_id = flow.processed_file(SALES.encode())  # the cleaner collected them
    sales_file = SalesFile.objects.get(pk=file_id)
    collected = catalogue()
    Track.objects.all().delete()
    Release.objects.all().delete()
    assert services.record_catalogue(sales_file=sales_file) == (1, 3)  # the lines scanned
    assert catalogue() == collected
    Track.objects.all().delete()
    Release.objects.all().delete()
    lines = SalesLine.objects.filter(sales_file=sales_file).order_by("line_number")
    rows = list(lines.values_list(*CLEAN_COLUMNS))
    first_lines: services.FirstLines = {}
    services.add_first_lines(first_lines, rows[:2])
    services.add_first_lines(first_lines, rows[2:])
    assert services.record_catalogue(sales_file=sales_file, first_lines=first_lines) == (1, 3)
    assert catalogue() == collected


def test_past_the_limit_of_pairs_kept_the_lines_are_scanned(flow, monkeypatch):
    file_id = flow.processed_file(SALES.encode())
    collected = catalogue()
    Track.objects.all().delete()
    Release.objects.all().delete()
    monkeypatch.setattr(pipeline, "FIRST_LINES_LIMIT", 1)
    flow.processed_file(SALES.encode(), name="again.csv", duplicate_reason="the same file")
    assert SalesFile.objects.exclude(pk=file_id).get().status == "PROCESSED"
    assert catalogue() == collected


def test_each_pair_keeps_its_first_line_across_chunks():
    def row(line: int, isrc: str, title: str) -> tuple:
        return (
            line,
            "2026-09",
            "Spotify",
            "Ana",
            isrc,
            "",
            title,
            "NL",
            "1",
            "1",
            "EUR",
            "stream",
            "",
            "",
            "",
        )

    first_lines: services.FirstLines = {}
    services.add_first_lines(first_lines, [row(1, "X", "a"), row(2, "Y", "b"), row(3, "X", "c")])
    services.add_first_lines(first_lines, [row(4, "Y", "d"), row(5, "Z", "e"), row(6, "Z", "f")])
    assert {pair: line[4] for pair, line in first_lines.items()} == {
        ("X", ""): "a",
        ("Y", ""): "b",
        ("Z", ""): "e",
    }


def test_scope_suggestions_come_from_the_catalogue(flow):
    flow.processed_file(SALES.encode())
    isrcs = selectors.catalogue_suggestions(scope="isrc", search="manila")
    assert isrcs == [{"id": "NLA012600001", "text": "NLA012600001 · Seelenluft · Manila"}]
    assert [s["id"] for s in selectors.catalogue_suggestions(scope="isrc", search="NLA0126")] == [
        "NLA012600001",
        "NLA012600002",
        "NLA012600003",
    ]
    assert [s["id"] for s in selectors.catalogue_suggestions(scope="upc", search="schwimm")] == [
        "8712345678901"
    ]
    assert [s["id"] for s in selectors.catalogue_suggestions(scope="artist", search="seelen")] == [
        "Seelenluft"
    ]


def test_the_suggestions_answer_select2_for_back_office_staff(flow, make_user):
    flow.processed_file(SALES.encode())
    staff = Client()
    staff.force_login(make_user("bea", groups=["back-office"]))
    url = "/statements/catalogue/suggestions/"
    answer = staff.get(url, {"field_name": "isrcs", "term": "out of", "app_label": "statements"}).json()
    assert answer == {
        "results": [{"id": "NLA012600002", "text": "NLA012600002 · Seelenluft · Out Of The Sun"}],
        "pagination": {"more": False},
    }
    assert staff.get(url, {"field_name": "name", "term": "x"}).status_code == 404
    operator = Client()
    operator.force_login(make_user("otto", groups=["operators"]))
    assert operator.get(url, {"field_name": "isrcs"}).status_code == 403


def test_a_contract_prefilled_from_an_unmatched_group_shows_its_scope(admin_client):
    page = admin_client.get("/admin/statements/contract/add/?name=Label+Band+-+Jingle&upcs=8712345678918")
    html = page.content.decode()
    assert 'value="Label Band - Jingle"' in html
    assert '<option value="8712345678918" selected>8712345678918</option>' in html
    assert "<textarea" not in html


@pytest.mark.parametrize(
    "path",
    [
        "/admin/statements/release/",
        "/admin/statements/track/",
        "/admin/statements/labelincome/",
        "/admin/statements/release/import/",
        "/admin/statements/track/export/",
    ],
)
def test_the_catalogue_admin_pages_open(admin_client, path):
    assert admin_client.get(path).status_code == 200


def test_tracks_import_with_their_release_by_upc(admin_client):
    from tablib import Dataset

    from statements.royalties.admin import ReleaseResource, TrackResource

    releases = Dataset(headers=["upc", "title", "artists", "label"])
    releases.append(["8712345678901", "Synchronschwimmer", "Seelenluft", "Klein Records"])
    assert not ReleaseResource().import_data(releases).has_errors()
    tracks = Dataset(headers=["isrc", "title", "artists", "release"])
    tracks.append(["NLA012600001", "Manila", "Seelenluft", "8712345678901"])
    assert not TrackResource().import_data(tracks).has_errors()
    track = Track.objects.get()
    assert (track.title, track.release.label) == ("Manila", "Klein Records")
    exported = TrackResource().export()
    assert exported.dict == [
        {"isrc": "NLA012600001", "title": "Manila", "artists": "Seelenluft", "release": "8712345678901"}
    ]
    search = admin_client.get("/admin/statements/track/", {"q": "manila"}).content.decode()
    assert "NLA012600001" in search


def test_no_royalty_admin_form_asks_for_json(rf, admin_user):
    request = rf.get("/")
    request.user = admin_user
    royalty_admins = [
        model_admin
        for model, model_admin in admin.site._registry.items()
        if model.__module__ == "statements.royalties.models"
    ]
    assert len(royalty_admins) >= 8
    for model_admin in royalty_admins:
        forms_shown = [model_admin.get_form(request, None)]
        forms_shown += [
            inline.get_formset(request).form for inline in model_admin.get_inline_instances(request)
        ]
        for form in forms_shown:
            json_fields = [name for name, field in form.base_fields.items() if isinstance(field, JSONField)]
            assert json_fields == [], f"{model_admin}: {json_fields}"
