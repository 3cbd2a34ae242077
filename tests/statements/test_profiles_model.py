"""Import profiles in the database: the built-in ones exist after `migrate`, an admin-added one is
validated and becomes a ProfileSpec the cleaning tries."""

import io

import pytest
from django.core.exceptions import ValidationError

from statements import selectors
from statements.cleaners.profiles import builtin_profiles
from statements.models import ImportProfile

pytestmark = pytest.mark.django_db


def test_builtin_profiles_exist_after_migrate():
    slugs = set(ImportProfile.objects.filter(builtin=True).values_list("slug", flat=True))
    assert slugs == {spec.slug for spec in builtin_profiles()}
    assert [spec.slug for spec in selectors.import_profiles()][-1] == "generic_csv"


def test_selector_specs_equal_the_fixture_specs():
    from_db = {spec.slug: spec for spec in selectors.import_profiles()}
    assert all(from_db[spec.slug] == spec for spec in builtin_profiles())


def test_inactive_profiles_are_not_tried():
    ImportProfile.objects.filter(slug="bandcamp").update(active=False)
    assert "bandcamp" not in {spec.slug for spec in selectors.import_profiles()}


def test_an_added_profile_is_read_by_the_selector():
    profile = ImportProfile(
        slug="label_x",
        name="Label X",
        columns={"artist": ["Künstler"], "units": ["Menge"], "revenue": ["Betrag (EUR)"]},
        required=["artist", "units", "revenue"],
        defaults={"dsp": "Label X", "territory": "DE", "period": "2025-06"},
    )
    profile.full_clean()
    profile.save()
    spec = next(spec for spec in selectors.import_profiles() if spec.slug == "label_x")
    assert spec.columns["revenue"] == ("betrag_eur",)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"columns": {"artiste": ["Artist"]}, "required": ["artiste"]}, "unknown field 'artiste'"),
        ({"required": ["units"]}, "required: 'units' has no column"),
        ({"sale_types": {"Streaming": "streams"}}, "not one of"),
        ({"columns": {"artist": "Artist"}}, "needs a list of header names"),
        ({"preamble": {"Currency": "money"}}, "unknown field 'money'"),
    ],
)
def test_a_broken_profile_is_refused_with_the_reason(change, message):
    values = {
        "slug": "broken",
        "name": "Broken",
        "columns": {"artist": ["Artist"]},
        "required": ["artist"],
        **change,
    }
    with pytest.raises(ValidationError, match=message):
        ImportProfile(**values).full_clean()


def test_admin_adds_a_profile_with_json_mappings(client, django_user_model):
    admin_user = django_user_model.objects.create_superuser("boss", password="pw-boss-123")
    client.force_login(admin_user)
    assert client.get("/admin/statements/importprofile/add/").status_code == 200
    form = {
        "slug": "label_y",
        "name": "Label Y",
        "active": "on",
        "priority": "0",
        "delimiter": ";",
        "decimal_separator": ",",
        "date_order": "dmy",
        "columns": '{"artist": ["Artiste"], "units": ["Quantité"], "revenue": ["Montant (EUR)"]}',
        "required": '["artist", "units", "revenue"]',
        "defaults": '{"dsp": "Label Y", "territory": "FR"}',
        "preamble": "{}",
        "sale_types": "{}",
        "void_values": "[]",
        "skip_values": "[]",
        "documentation": "",
    }
    response = client.post("/admin/statements/importprofile/add/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    refused = client.post(
        "/admin/statements/importprofile/add/", {**form, "slug": "label_z", "required": '["isrc"]'}
    )
    assert (
        refused.status_code == 200 and "required: &#x27;isrc&#x27; has no column" in refused.content.decode()
    )
    assert {spec.slug for spec in selectors.import_profiles()} >= {"label_y"}
    page = client.get("/admin/statements/importprofile/")
    assert page.status_code == 200 and "generic_csv" in page.content.decode()


def test_load_import_profiles_restores_the_builtin_ones_and_keeps_added_ones():
    from django.core.management import call_command

    ImportProfile.objects.filter(slug="symphonic").update(columns={"units": ["x"]}, required=["units"])
    ImportProfile.objects.filter(slug="deezer").delete()
    ImportProfile.objects.create(
        slug="mine", name="Mine", columns={"units": ["u"]}, required=["units"], defaults={}
    )
    call_command("load_import_profiles", stdout=io.StringIO())
    specs = {spec.slug: spec for spec in selectors.import_profiles()}
    assert specs["symphonic"] == next(s for s in builtin_profiles() if s.slug == "symphonic")
    assert "deezer" in specs and "mine" in specs


def test_the_dsr_name_cannot_be_a_profile_slug():
    with pytest.raises(ValidationError, match="reserved for DDEX DSR files"):
        ImportProfile(slug="ddex_dsr", name="x", columns={"units": ["u"]}, required=["units"]).full_clean()
