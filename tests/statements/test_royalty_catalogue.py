"""The catalogue: releases and tracks upserted from every processed sales file (one statement per
table, not per line), corrections kept, and the contract's scope picked from it."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from statements.models import SalesFile
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


def test_the_upsert_is_one_statement_per_table_whatever_the_lines(flow):
    file_id = flow.processed_file(SALES.encode())
    sales_file = SalesFile.objects.get(pk=file_id)
    Track.objects.all().delete()
    Release.objects.all().delete()
    with CaptureQueriesContext(connection) as queries:
        assert services.record_catalogue(sales_file=sales_file) == (1, 3)
    assert len(queries) == 2
    # Nothing to fill: no row is rewritten.
    assert services.record_catalogue(sales_file=sales_file) == (0, 0)


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
