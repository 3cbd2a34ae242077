"""`makemessages` without fuzzy matching: a new text gets no guessed translation from a similar
one (which would be shown as if right once the fuzzy flag is dropped); it stays untranslated, and
tests/platform/test_locale_files.py lists it until it is translated."""

from django.core.management.commands import makemessages


class Command(makemessages.Command):
    msgmerge_options = [*makemessages.Command.msgmerge_options, "--no-fuzzy-matching"]
