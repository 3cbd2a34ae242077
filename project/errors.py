"""The one family of domain errors. Services raise these (never HTTP classes); each API maps
them to its own error body in one place (`project.api`), pages turn them into messages.

Every error has a stable `code` (a short snake_case word a client can branch on) and a human
`message`; `InvalidInput` also carries `problems`, one entry per thing the client must fix.
"""

from typing import Any


class DomainError(Exception):
    """Base class; subclasses say what kind of failure it is, `code` says which one."""

    default_code = "error"

    def __init__(self, message: str, *, code: str | None = None, problems: list[Any] | None = None):
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.problems = list(problems or [])


class NotFound(DomainError):
    default_code = "not_found"


class Conflict(DomainError):
    """The request is valid but the object's current state does not allow it."""

    default_code = "conflict"


class InvalidInput(DomainError):
    """Input the client can fix; `problems` lists each issue (e.g. {"loc": [...], "msg": "..."})."""

    default_code = "invalid_input"


class Forbidden(DomainError):
    """Authenticated, but not allowed (e.g. an API token used outside its scopes)."""

    default_code = "forbidden"


class Unavailable(DomainError):
    """A system we depend on (database, storage, Moneybird, FTP) does not answer; retry later."""

    default_code = "unavailable"
