"""The Italian catalogue is complete and the committed .mo is the compiled .po (no stale build)."""

from pathlib import Path

import polib

LOCALE = Path(__file__).resolve().parents[2] / "locale" / "it" / "LC_MESSAGES"


def test_italian_po_has_no_untranslated_or_fuzzy_entry():
    po = polib.pofile(str(LOCALE / "django.po"))
    assert [entry.msgid for entry in po.untranslated_entries()] == []
    assert [entry.msgid for entry in po.fuzzy_entries()] == []
    assert po.metadata["Language"] == "it" and po.metadata["Plural-Forms"].startswith("nplurals=2;")


def test_committed_mo_matches_the_po():
    po = polib.pofile(str(LOCALE / "django.po"))
    mo = polib.mofile(str(LOCALE / "django.mo"))

    def catalogue(entries) -> dict:
        return {
            (entry.msgctxt, entry.msgid): entry.msgstr or tuple(sorted(entry.msgstr_plural.items()))
            for entry in entries
            if entry.msgid and not entry.obsolete
        }

    assert catalogue(mo) == catalogue(po), (
        "run: python manage.py compilemessages -l it (see docs/operations.md)"
    )
