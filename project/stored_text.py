"""Messages stored in the database as a code with parameters, rendered in the reader's language.

A service stores a `Text` (its code and parameters, plain JSON values) beside the English sentence
(kept for logs, the admin's search and rows written before codes existed); a page renders it
through its app's `Catalogue` of translatable templates. A row without a code, or with a code the
catalogue no longer has (or parameters that no longer fit it), shows the stored sentence.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

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
