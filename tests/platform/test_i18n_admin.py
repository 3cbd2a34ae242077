"""The admin speaks the browser's language for our models too: verbose names, choice labels,
help texts, column titles and actions come from the Italian catalogue."""

import pytest
from django.urls import reverse

from ingestion.services import ingest_bytes
from tests.ingestion.conftest import content, file_name

pytestmark = pytest.mark.django_db


@pytest.fixture
def italian_admin(client, make_user):
    user = make_user("root", staff=True)
    user.is_superuser = True
    user.save()
    client.force_login(user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "it-IT,it;q=0.9"
    return client


def test_admin_index_and_changelist_in_italian(italian_admin):
    ingest_bytes(name=file_name(1), content=content("600000001|2|Toys|12.50"), source="manual")
    index = italian_admin.get(reverse("admin:index")).content.decode()
    for label in (
        "Acquisizione fatture",
        "File fatture",
        "Sessioni",
        "Elaborazioni dei rendiconti",
        "Piattaforma",
    ):
        assert label in index

    changelist = italian_admin.get(reverse("admin:ingestion_invoicefile_changelist")).content.decode()
    assert "Ripeti la verifica delle fatture note" in changelist  # the action
    assert "Data di competenza" in changelist  # a column title (verbose_name, capitalised)
    assert "Caricamento manuale" in changelist and "Importato" in changelist  # choice labels


def test_admin_form_shows_italian_field_labels_and_help_texts(italian_admin):
    page = italian_admin.get(reverse("admin:statements_payee_add")).content.decode()
    assert "Aggiungi beneficiario" in page
    assert "Pagamento minimo" in page and "I saldi inferiori a questo importo vengono riportati." in page
