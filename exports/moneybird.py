"""Moneybird REST API v2 client: the only module of the app that speaks HTTP.

Reads the synchronization endpoints of purchase invoices and receipts, ledger accounts and tax
rates. Retries 429 (honouring Retry-After), 5xx and timeouts a bounded number of times; a 401
becomes MoneybirdAuthError so callers can tell the user their token was refused.
"""

import http.client
import json
import logging
import re
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any

from django.conf import settings
from django.utils import timezone

logger = logging.getLogger(__name__)

KINDS = {"purchase_invoice": "documents/purchase_invoices", "receipt": "documents/receipts"}
# Moneybird refuses larger id lists on POST …/synchronization.json.
MAX_IDS_PER_REQUEST = 100
_NEXT_LINK = re.compile(r'<([^>]+)>\s*;\s*rel="?next"?')


class MoneybirdError(Exception):
    """Moneybird could not be used; the message is fit for the user."""


class MoneybirdConfigError(MoneybirdError):
    """Settings or token missing on our side."""


class MoneybirdAuthError(MoneybirdError):
    """Moneybird answered 401: the token is wrong, expired or lacks the documents scope."""


class MoneybirdUnavailable(MoneybirdError):
    """Moneybird kept failing (429, 5xx, timeouts) after all retries, or answered nonsense."""


@dataclass(frozen=True)
class MoneybirdClient:
    token: str = field(repr=False)
    administration_id: str
    base_url: str
    timeout: float = 30
    max_retries: int = 4
    retry_delay: float = 1.0
    max_retry_wait: float = 60.0

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
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                    return _decode(response.read(), url), response.headers
            except urllib.error.HTTPError as exc:
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


def client_from_settings(token: str | None = None) -> MoneybirdClient:
    """A client for the configured administration, with `token` or MONEYBIRD_TOKEN."""
    token = token or settings.MONEYBIRD_TOKEN
    if not token:
        raise MoneybirdConfigError(
            "No Moneybird token: send it in X-Moneybird-Token (or configure MONEYBIRD_TOKEN)."
        )
    if not settings.MONEYBIRD_ADMINISTRATION_ID:
        raise MoneybirdConfigError("MONEYBIRD_ADMINISTRATION_ID is not configured.")
    return MoneybirdClient(
        token=token,
        administration_id=settings.MONEYBIRD_ADMINISTRATION_ID,
        base_url=settings.MONEYBIRD_API_URL,
        timeout=settings.MONEYBIRD_TIMEOUT,
        max_retries=settings.MONEYBIRD_MAX_RETRIES,
        retry_delay=settings.MONEYBIRD_RETRY_DELAY,
        max_retry_wait=settings.MONEYBIRD_MAX_RETRY_WAIT,
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
