"""Admin: files with counts and a link to their lines, filters, search, reprocess, categories."""

import pytest
from django.urls import reverse

from ingestion.models import Category, InvoiceFile, InvoiceLine
from ingestion.services import ingest_bytes
from project.models import OutboundEmail
from tests.ingestion.conftest import content, file_name

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client, make_user):
    user = make_user("admin-user", staff=True)
    user.is_superuser = True  # staff alone sees nothing without model permissions
    user.save()
    client.force_login(user)
    return client


@pytest.fixture
def imported(known_invoices) -> InvoiceFile:
    known_invoices(found=["600000001"])
    data = content("600000001|2|Toys, Books|12.50", "600000002|1|Toys|3.00", "700000003|1|x|1")
    return ingest_bytes(name=file_name(3), content=data, source="manual").file


def test_file_list_shows_status_counts_and_links_to_lines(staff_client, imported):
    response = staff_client.get(reverse("admin:ingestion_invoicefile_changelist"))
    assert response.status_code == 200
    page = response.content.decode()
    assert imported.name in page and "imported" in page
    assert f"?file__id__exact={imported.pk}" in page
    assert "2 lines" in page


def test_lines_filter_by_file_status_and_category_and_search_by_invoice_number(staff_client, imported):
    url = reverse("admin:ingestion_invoiceline_changelist")
    books = Category.objects.get(key="books")
    cases = {
        f"?file__id__exact={imported.pk}": {"600000001", "600000002"},
        "?lookup_status__exact=not_found": {"600000002"},
        f"?categories__id__exact={books.pk}": {"600000001"},
        "?q=600000002": {"600000002"},
    }
    for query, expected in cases.items():
        page = staff_client.get(url + query).content.decode()
        shown = {number for number in ("600000001", "600000002") if number in page}
        assert shown == expected, query


def test_categories_list_shows_line_counts(staff_client, imported):
    page = staff_client.get(reverse("admin:ingestion_category_changelist")).content.decode()
    assert "Toys" in page and "Books" in page
    assert '<td class="field-line_count">2</td>' in page


def test_reprocess_action_reruns_lookup_and_queues_the_summary(staff_client, imported):
    response = staff_client.post(
        reverse("admin:ingestion_invoicefile_changelist"),
        {"action": "reprocess", "_selected_action": [imported.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert "lookup re-run" in response.content.decode()
    assert OutboundEmail.objects.filter(kind="ingestion/summary").count() == 2


def test_admin_is_staff_only(client, make_user, imported):
    client.force_login(make_user("operator", groups=["operators"]))
    response = client.get(reverse("admin:ingestion_invoicefile_changelist"))
    assert response.status_code == 302


def test_deleting_a_file_in_the_admin_removes_its_lines(staff_client, imported):
    response = staff_client.post(
        reverse("admin:ingestion_invoicefile_delete", args=[imported.pk]), {"post": "yes"}, follow=True
    )
    assert response.status_code == 200
    assert not InvoiceFile.objects.exists()
    assert not InvoiceLine.objects.exists()


def test_imports_in_progress_are_listed_with_processed_of_total(staff_client):
    from django.utils import timezone

    from ingestion.models import ImportProgress

    now = timezone.now()
    ImportProgress.objects.create(name=file_name(40), processed=10, total=40, started_at=now, updated_at=now)
    response = staff_client.get(reverse("admin:ingestion_importprogress_changelist"))
    assert response.status_code == 200
    page = response.content.decode()
    assert file_name(40) in page and "10/40 (25%)" in page


def test_invalid_lines_are_a_table_of_line_and_reason(staff_client, known_invoices):
    data = content("600000001|2|Toys|1.005", "600000002|x|Toys|3.00", "600000003|1|x|1.00")
    invoice_file = ingest_bytes(name=file_name(3), content=data, source="manual").file

    page = staff_client.get(
        reverse("admin:ingestion_invoicefile_change", args=[invoice_file.pk])
    ).content.decode()

    assert "<th>line</th><th>reason</th>" in page
    assert "<tr><td>1</td><td>value &#x27;1.005&#x27; has more than two decimals</td></tr>" in page
    assert '[{"line"' not in page and "[{&quot;line" not in page
