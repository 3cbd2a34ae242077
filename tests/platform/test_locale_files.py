"""The Italian catalogue is complete and the committed .mo is the compiled .po (no stale build)."""

import shutil
import subprocess
import sys
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


def test_every_text_in_the_code_is_in_the_italian_po(tmp_path):
    """makemessages, run on a copy of the code, finds no text the committed .po lacks (a new model
    field or message would otherwise show in English until someone ran it)."""
    root = Path(__file__).resolve().parents[2]
    copy = tmp_path / "code"
    shutil.copytree(
        root,
        copy,
        ignore=shutil.ignore_patterns(".venv", ".git", "var", "tests", "bench", "*.mo", "__pycache__"),
    )
    subprocess.run(
        [sys.executable, "manage.py", "makemessages", "-l", "it", "--no-location", "--ignore=.venv"],
        cwd=copy,
        check=True,
        capture_output=True,
    )
    extracted = polib.pofile(str(copy / "locale" / "it" / "LC_MESSAGES" / "django.po"))
    committed = {(entry.msgctxt, entry.msgid) for entry in polib.pofile(str(LOCALE / "django.po"))}
    missing = [entry.msgid for entry in extracted if (entry.msgctxt, entry.msgid) not in committed]
    assert missing == [], "run makemessages (docs/operations.md) and translate these"
