"""The Settle API's error codes (SETTLE-XX) and the exceptions services raise for them."""

SERVICE_DOWN = "SETTLE-00"
PARSING = "SETTLE-01"
FUNCTIONAL = "SETTLE-02"


def code_for_status(status: int) -> str:
    """400 is a parsing error and 503 the service being down; every other refusal is functional."""
    return {400: PARSING, 503: SERVICE_DOWN}.get(status, FUNCTIONAL)


class SettleError(Exception):
    """An error the client can act on; `status` is the HTTP status it is answered with."""

    status = 422

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class InvalidInput(SettleError):
    status = 400


class UnknownStructure(SettleError):
    status = 404

    def __init__(self, settleid: str):
        super().__init__(f"Settlement structure {settleid!r} does not exist")


class DuplicateStructure(SettleError):
    status = 409

    def __init__(self, settleid: str):
        super().__init__(f"Settlement structure {settleid!r} already exists")


class FunctionalError(SettleError):
    status = 422


class NothingToSettle(SettleError):
    status = 409

    def __init__(self, settleid: str):
        super().__init__(
            f"Settlement structure {settleid!r} has nothing to settle: no aggregates since the last settle"
        )
