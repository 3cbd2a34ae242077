"""Messages stored in the database as a code with parameters, rendered in the reader's language.

A service stores a `Text` (its code and parameters, plain JSON values) beside the English sentence
(kept for logs, the admin's search and rows written before codes existed); a page renders it
through its app's `Catalogue` of translatable templates. A row without a code, or with a code the
catalogue no longer has (or parameters that no longer fit it), shows the stored sentence.

Where only the English sentence is stored (a list of warnings or problems in a JSON field, which
the API also returns), `Catalogue.translated` finds the template it was written from and renders
its parameters in the reader's language.
"""

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property

from django.utils import translation
from django.utils.functional import Promise


@dataclass(frozen=True)
class Text:
    code: str
    params: dict = field(default_factory=dict)


class Catalogue:
    """`templates`: code → gettext_lazy/ngettext_lazy template (plurals name their count
    parameter). `prepare` turns stored parameters into displayed ones (a status code into its
    label, say) in the language active when rendering."""

    def __init__(
        self, templates: Mapping[str, Promise], prepare: Callable[[dict], dict] | None = None
    ) -> None:
        self.templates = templates
        self.prepare = prepare or (lambda params: params)

    def english(self, text: Text) -> str:
        """The sentence stored beside the code."""
        with translation.override("en"):
            return self.render(text.code, text.params, fallback=text.code)

    def render(self, code: str, params: dict | None, fallback: str) -> str:
        template = self.templates.get(code)
        if template is None:
            return fallback
        try:
            return str(template % self.prepare(dict(params or {})))
        except (KeyError, TypeError, ValueError):
            return fallback

    def matched(self, stored: str) -> Text | None:
        """The code and parameters a sentence stored in English was written from (None: none)."""
        for code, pattern in self._english_patterns:
            if (found := pattern.fullmatch(stored)) is not None:
                return Text(code, found.groupdict())
        return None

    def translated(self, stored: str) -> str:
        """A sentence stored in English, written from one of the templates, in the reader's
        language (as stored when it matches none)."""
        text = self.matched(stored)
        return stored if text is None else self.render(text.code, text.params, stored)

    @cached_property
    def _english_patterns(self) -> tuple[tuple[str, re.Pattern], ...]:
        """Each template's English as a pattern whose groups are its parameters."""
        patterns = []
        with translation.override("en"):
            for code, template in self.templates.items():
                english, parts, seen, at = str(template).replace("%%", "%"), [], set(), 0
                for found in _PARAMETER.finditer(english):
                    name = found.group(1)
                    parts += [
                        re.escape(english[at : found.start()]),
                        f"(?P={name})" if name in seen else f"(?P<{name}>.+?)",
                    ]
                    seen.add(name)
                    at = found.end()
                parts.append(re.escape(english[at:]))
                patterns.append((code, re.compile("".join(parts), re.DOTALL)))
        return tuple(patterns)


_PARAMETER = re.compile(r"%\((\w+)\)s")
