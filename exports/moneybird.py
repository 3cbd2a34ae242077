"""Moneybird REST API v2 client: the only module of the app that speaks HTTP.

Reads the synchronization endpoints of purchase invoices and receipts, ledger accounts and tax
rates, and registers webhooks. Retries 429 (honouring Retry-After), 5xx and timeouts a bounded
number of times; a 401 becomes MoneybirdAuthError so callers can tell the user their token was
refused. Every request first takes a place in the rate budget (`RateBudget`), so a long sync slows
down before Moneybird answers 429 (150 requests per 5 minutes for the whole platform).

Without MONEYBIRD_API_URL the app runs against the demo's fake Moneybird on 127.0.0.1
(`manage.py demo_moneybird`, started by `make run`).
"""

import http.client
import json
import logging
import re
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any

from django.conf import settings
from django.utils import timezone

from exports.fake_moneybird import DEMO_ADMINISTRATION_ID, DEMO_TOKEN
from project.errors import Unavailable

logger = logging.getLogger(__name__)

KINDS = {"purchase_invoice": "documents/purchase_invoices", "receipt": "documents/receipts"}
# Moneybird refuses larger id lists on POST …/synchronization.json.
MAX_IDS_PER_REQUEST = 100
_NEXT_LINK = re.compile(r'<([^>]+)>\s*;\s*rel="?next"?')


class MoneybirdError(Unavailable):
    """Moneybird could not be used; the message is fit for the user."""

    default_code = "moneybird_unavailable"


class MoneybirdConfigError(MoneybirdError):
    """Settings or token missing on our side."""

    default_code = "moneybird_not_configured"


class MoneybirdAuthError(MoneybirdError):
    """Moneybird answered 401: the token is wrong, expired or lacks the documents scope."""

    default_code = "moneybird_token_refused"


class MoneybirdUnavailable(MoneybirdError):
    """Moneybird kept failing (429, 5xx, timeouts) after all retries, or answered nonsense."""


# Moneybird's `RateLimit-Reset` is a Unix time; smaller numbers are read as seconds from now.
_EPOCH_THRESHOLD = 1_000_000_000


class RateBudget:
    """Requests this process may still send: a sliding window of its own requests (limit per window)
    and Moneybird's `RateLimit-Remaining`/`RateLimit-Reset`, which also count other processes."""

    def __init__(self, limit: int, window: float):
        self.limit, self.window = limit, window
        self.sent: deque[float] = deque()
        self.blocked_until = 0.0
        self.waited = 0.0
        self._lock = threading.Lock()

    def acquire(self) -> None:
        """Wait until one more request fits, then count it."""
        while True:
            with self._lock:
                now = time.monotonic()
                while self.sent and self.sent[0] <= now - self.window:
                    self.sent.popleft()
                wait = self.blocked_until - now
                if len(self.sent) >= self.limit:
                    wait = max(wait, self.sent[0] + self.window - now)
                if wait <= 0:
                    self.sent.append(now)
                    return
            logger.info("Moneybird rate budget used up; waiting %.1fs", wait)
            self.waited += wait
            time.sleep(wait)

    def observe(self, headers: Mapping[str, str] | None) -> None:
        """Moneybird said how many requests remain: at 0, wait for its window to reset."""
        if headers is None:
            return
        try:
            remaining = int(headers.get("RateLimit-Remaining", ""))
            reset = float(headers.get("RateLimit-Reset", ""))
        except ValueError:
            return
        if remaining > 0:
            return
        seconds = reset - time.time() if reset > _EPOCH_THRESHOLD else reset
        with self._lock:
            until = time.monotonic() + min(max(seconds, 0.0), self.window)
            self.blocked_until = max(self.blocked_until, until)


_budgets: dict[tuple, RateBudget] = {}
_budgets_lock = threading.Lock()


def rate_budget(base_url: str, administration_id: str, limit: int, window: float) -> RateBudget:
    """The process-wide budget of one Moneybird API (every client of it shares the same)."""
    with _budgets_lock:
        return _budgets.setdefault((base_url, administration_id, limit, window), RateBudget(limit, window))


@dataclass(frozen=True)
class MoneybirdClient:
    token: str = field(repr=False)
    administration_id: str
    base_url: str
    timeout: float = 30
    max_retries: int = 4
    retry_delay: float = 1.0
    max_retry_wait: float = 60.0
    budget: RateBudget = field(default_factory=lambda: RateBudget(150, 300.0), repr=False)

    def sync_list(self, kind: str) -> list[dict]:
        """[{id, version}] of every document of `kind` ("purchase_invoice" | "receipt")."""
        return self._get_all(f"{KINDS[kind]}/synchronization.json")

    def fetch(self, kind: str, ids: list[str], on_batch: Callable[[int], None] | None = None) -> list[dict]:
        """Full records of `ids` (batches of at most 100, each reported to `on_batch` with its size);
        ids Moneybird no longer has are absent."""
        records = []
        for start in range(0, len(ids), MAX_IDS_PER_REQUEST):
            batch = ids[start : start + MAX_IDS_PER_REQUEST]
            body, _ = self._request("POST", f"{KINDS[kind]}/synchronization.json", {"ids": batch})
            records.extend(_expect_list(body))
            if on_batch is not None:
                on_batch(len(batch))
        return records

    def ledger_accounts(self) -> list[dict]:
        return self._get_all("ledger_accounts.json")

    def tax_rates(self) -> list[dict]:
        return self._get_all("tax_rates.json")

    def register_webhook(self, url: str, events: list[str]) -> dict:
        """Register `url` for `events`; Moneybird answers the webhook with its id and token."""
        body, _ = self._request("POST", "webhooks.json", {"url": url, "enabled_events": events})
        if not isinstance(body, dict) or not body.get("id") or not body.get("token"):
            raise MoneybirdUnavailable("Moneybird answered a webhook registration without id or token")
        return body

    def _get_all(self, path: str) -> list[dict]:
        """GET a list, following `Link: <…>; rel="next"` pages when Moneybird paginates it."""
        items: list[dict] = []
        url: str | None = self._url(path)
        while url:
            body, headers = self._request("GET", url)
            items.extend(_expect_list(body))
            url = _next_page(headers.get("Link", ""))
            # Never send the token anywhere but Moneybird, whatever a Link header says.
            if url and not url.startswith(self.base_url.rstrip("/") + "/"):
                raise MoneybirdUnavailable(f"Moneybird pointed the next page outside the API: {url}")
        return items

    def _url(self, path: str) -> str:
        return f"{self.base_url.rstrip('/')}/{self.administration_id}/{path}"

    def _request(self, method: str, url_or_path: str, payload: Any = None) -> tuple[Any, Any]:
        url = url_or_path if "://" in url_or_path else self._url(url_or_path)
        data = json.dumps(payload).encode() if payload is not None else None
        for attempt in range(self.max_retries + 1):
            request = urllib.request.Request(url, data=data, method=method)  # noqa: S310 (https URL from settings)
            request.add_header("Authorization", f"Bearer {self.token}")
            request.add_header("Accept", "application/json")
            if data is not None:
                request.add_header("Content-Type", "application/json")
            self.budget.acquire()
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                    self.budget.observe(response.headers)
                    return _decode(response.read(), url), response.headers
            except urllib.error.HTTPError as exc:
                self.budget.observe(exc.headers)
                if exc.code == 401:
                    raise MoneybirdAuthError(
                        "Moneybird refused the token (HTTP 401): check the Moneybird API token."
                    ) from None
                if exc.code != 429 and exc.code < 500:
                    detail = exc.read()[:300].decode("utf-8", "replace")
                    raise MoneybirdUnavailable(
                        f"Moneybird answered HTTP {exc.code} to {method} {url}: {detail}"
                    ) from None
                wait = self._backoff(attempt, exc.headers.get("Retry-After") if exc.code == 429 else None)
                reason = f"HTTP {exc.code}"
            except (urllib.error.URLError, http.client.HTTPException, TimeoutError, ConnectionError) as exc:
                wait, reason = self._backoff(attempt, None), f"{type(exc).__name__}: {exc}"
            if attempt == self.max_retries:
                raise MoneybirdUnavailable(
                    f"Moneybird is unavailable ({reason}) after {attempt + 1} attempts: {method} {url}"
                )
            logger.warning(
                "Moneybird %s %s failed (%s); retry %d in %.2fs", method, url, reason, attempt + 1, wait
            )
            time.sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover

    def _backoff(self, attempt: int, retry_after: str | None) -> float:
        wait = self.retry_delay * (2**attempt)
        if retry_after:
            wait = _retry_after_seconds(retry_after, default=wait)
        return max(0.0, min(wait, self.max_retry_wait))


def demo_mode() -> bool:
    """No MONEYBIRD_API_URL: the demo's fake Moneybird on 127.0.0.1 stands in for Moneybird."""
    return not settings.MONEYBIRD_API_URL


def demo_api_url() -> str:
    return f"http://127.0.0.1:{settings.MONEYBIRD_DEMO_PORT}/api/v2"


def configuration_problem(token: str | None = None) -> str | None:
    """Which setting is missing for Moneybird, or None (the demo needs none)."""
    if demo_mode():
        return None
    if not (token or settings.MONEYBIRD_TOKEN):
        return "No Moneybird token: MONEYBIRD_TOKEN is not set."
    if not settings.MONEYBIRD_ADMINISTRATION_ID:
        return "No Moneybird administration: MONEYBIRD_ADMINISTRATION_ID is not set."
    return None


def client_from_settings(token: str | None = None) -> MoneybirdClient:
    """A client for the configured administration, with `token` or MONEYBIRD_TOKEN (in the demo: the
    fake Moneybird with its own administration and token)."""
    problem = configuration_problem(token)
    if problem:
        raise MoneybirdConfigError(problem)
    if demo_mode():
        base_url, administration_id, token = demo_api_url(), DEMO_ADMINISTRATION_ID, DEMO_TOKEN
    else:
        base_url, administration_id = settings.MONEYBIRD_API_URL, settings.MONEYBIRD_ADMINISTRATION_ID
        token = token or settings.MONEYBIRD_TOKEN
    return MoneybirdClient(
        token=token,
        administration_id=administration_id,
        base_url=base_url,
        timeout=settings.MONEYBIRD_TIMEOUT,
        max_retries=settings.MONEYBIRD_MAX_RETRIES,
        retry_delay=settings.MONEYBIRD_RETRY_DELAY,
        max_retry_wait=settings.MONEYBIRD_MAX_RETRY_WAIT,
        budget=rate_budget(
            base_url, administration_id, settings.MONEYBIRD_RATE_LIMIT, settings.MONEYBIRD_RATE_WINDOW
        ),
    )


def document_url(administration_id: str, document_id: str) -> str:
    """Link to a document in the Moneybird web app."""
    return f"{settings.MONEYBIRD_WEB_URL.rstrip('/')}/{administration_id}/documents/{document_id}"


def _decode(raw: bytes, url: str) -> Any:
    try:
        return json.loads(raw or b"null")
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise MoneybirdUnavailable(f"Moneybird answered something that is not JSON for {url}") from None


def _expect_list(body: Any) -> list[dict]:
    if not isinstance(body, list) or not all(isinstance(item, dict) and "id" in item for item in body):
        raise MoneybirdUnavailable("Moneybird answered an unexpected shape (a list of objects with an id)")
    return body


def _next_page(link_header: str) -> str | None:
    match = _NEXT_LINK.search(link_header or "")
    return match.group(1) if match else None


def _retry_after_seconds(value: str, *, default: float) -> float:
    """Retry-After is either delta-seconds or an HTTP date."""
    try:
        return float(value)
    except ValueError:
        pass
    try:
        return (parsedate_to_datetime(value) - timezone.now()).total_seconds()
    except (TypeError, ValueError):
        return default


def demo_change(action: str, document_id: str = "") -> str:
    """Ask the demo's fake Moneybird to add, pay, amend or delete a document (the demo page's
    buttons); returns the document id."""
    path = "add" if action == "add" else f"{document_id}/{action}"
    request = urllib.request.Request(
        f"http://127.0.0.1:{settings.MONEYBIRD_DEMO_PORT}/_demo/{path}", data=b"{}", method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return str(_decode(response.read(), request.full_url)["id"])
    except (urllib.error.URLError, OSError) as exc:
        raise MoneybirdUnavailable(
            f"The demo Moneybird did not answer ({exc}); is `make run` running?"
        ) from None
