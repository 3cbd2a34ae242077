import pytest

from exports.models import ExportFile

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_back_office_syncs_exports_and_deletes_in_the_browser(page, make_user, moneybird):
    first, second = moneybird.add(reference="FIRST-REF"), moneybird.add(reference="SECOND-REF")
    make_user("clerk", groups=["back-office"])
    page.goto("/accounts/login/?next=/exports/")
    page.fill("input[name=username]", "clerk")
    page.fill("input[name=password]", "pw-clerk-123")
    page.click("button[type=submit]")

    page.click("#sync-now")
    page.wait_for_selector("text=2 new")
    page.check(f"#pending input[value='{first['id']}']")
    page.fill("#id_ext", "browser")
    page.click("#export-selected")
    page.wait_for_selector("text=with 1 document.")

    export_file = ExportFile.objects.get()
    assert export_file.name.endswith("-browser.xlsx")
    assert page.locator("#export-files").inner_text().count(export_file.name) == 1
    assert second["id"] in page.locator("#pending").inner_text()
    assert first["id"] not in page.locator("#pending").inner_text()

    page.once("dialog", lambda dialog: dialog.accept())
    page.click("#export-files button.danger")
    page.wait_for_selector("text=can be exported again")
    assert first["id"] in page.locator("#pending").inner_text()
