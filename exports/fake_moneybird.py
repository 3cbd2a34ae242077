"""A fake Moneybird API v2 on 127.0.0.1: a real HTTP server with the endpoints the exports app uses.

Used by the tests and by the demo (`manage.py demo_moneybird`, started by `make run` when no
MONEYBIRD_API_URL is configured). Implements GET/POST documents/{purchase_invoices,receipts}/
synchronization.json (POST refuses more than 100 ids, as Moneybird does), ledger_accounts.json and
tax_rates.json (paginated with a Link header), webhooks.json (register, list), Bearer-token checks
(401), Moneybird's rate limit (RateLimit-* headers, 429 over the budget; window and limit are
arguments so tests need not wait 5 minutes), injectable failures (429 with Retry-After, 5xx, slow
answers), and, for the demo page, /_demo/ endpoints that add, pay, amend and delete documents
(delivering webhook calls to the registered URLs as Moneybird does).
"""

import copy
import json
import logging
import math
import secrets
import threading
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

logger = logging.getLogger(__name__)

PATHS = {"purchase_invoices": "purchase_invoice", "receipts": "receipt"}
DEMO_ADMINISTRATION_ID = "123456789"
DEMO_TOKEN = "mb-good-token"  # noqa: S105 (the fake's own token)
CENT = Decimal("0.01")


@dataclass
class Failure:
    status: int
    method: str | None = None
    retry_after: str | None = None
    delay: float = 0.0


def detail(
    number: int,
    *,
    description: str = "Office supplies",
    price: str = "100.0",
    ledger_account_id: str = "led-4000",
    tax_rate_id: str = "tax-21",
    period: str | None = None,
) -> dict:
    return {
        "id": f"det-{number}",
        "administration_id": "adm",
        "tax_rate_id": tax_rate_id,
        "ledger_account_id": ledger_account_id,
        "project_id": None,
        "product_id": None,
        "amount": "1 x",
        "amount_decimal": "1.0",
        "description": description,
        "price": price,
        "period": period,
        "row_order": number,
        "total_price_excl_tax_with_discount": price,
        "total_price_excl_tax_with_discount_base": price,
        "tax_report_reference": [],
        "mandatory_tax_text": None,
        "created_at": "2026-11-02T10:00:00.000Z",
        "updated_at": "2026-11-02T10:00:00.000Z",
    }


class FakeMoneybird:
    def __init__(
        self,
        *,
        administration_id: str = DEMO_ADMINISTRATION_ID,
        token: str = DEMO_TOKEN,
        port: int = 0,
        rate_limit: int | None = None,
        rate_window: float = 300.0,
    ):
        self.administration_id = administration_id
        self.token = token
        self.documents: dict[str, dict[str, dict]] = {"purchase_invoice": {}, "receipt": {}}
        self.ledger_accounts = [
            {
                "id": "led-4000",
                "administration_id": administration_id,
                "name": "Office costs",
                "account_type": "expenses",
                "account_id": "4000",
                "parent_id": None,
            },
            {
                "id": "led-4100",
                "administration_id": administration_id,
                "name": "=Travel",
                "account_type": "expenses",
                "account_id": "4100",
                "parent_id": None,
            },
        ]
        self.tax_rates = [
            {
                "id": "tax-21",
                "administration_id": administration_id,
                "name": "21% btw",
                "percentage": "21.0",
                "tax_rate_type": "purchase_invoice",
                "show_tax": True,
                "active": True,
            },
            {
                "id": "tax-9",
                "administration_id": administration_id,
                "name": "9% btw",
                "percentage": "9.0",
                "tax_rate_type": "purchase_invoice",
                "show_tax": True,
                "active": True,
            },
            {
                "id": "tax-0",
                "administration_id": administration_id,
                "name": "0% btw",
                "percentage": "0.0",
                "tax_rate_type": "purchase_invoice",
                "show_tax": True,
                "active": True,
            },
        ]
        self.per_page = 2
        self.requests: list[tuple[str, str, list | None]] = []
        self.failures: list[Failure] = []
        self.fail_post_containing: str | None = None
        self.webhooks: list[dict] = []
        # Rate limit in fixed windows counted from the start, as Moneybird counts per 5 minutes.
        self.rate_limit, self.rate_window = rate_limit, rate_window
        self.requests_per_window: Counter[int] = Counter()
        self.throttled = 0
        self._started = time.time()
        self._lock = threading.Lock()
        self._next_id = 260703856723232000
        self.server = ThreadingHTTPServer(("127.0.0.1", port), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/api/v2"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    # --- data -------------------------------------------------------------------------------------
    def add(
        self, kind: str = "purchase_invoice", *, state: str = "open", date: str = "2026-11-02", **fields
    ) -> dict:
        """Add a document with Moneybird's record shape; returns the record (its id is a string)."""
        with self._lock:
            self._next_id += 1
            doc_id = str(self._next_id)
        record = {
            "id": doc_id,
            "administration_id": self.administration_id,
            "contact_id": "cont-1",
            "contact": {
                "id": "cont-1",
                "company_name": "Acme Supplies BV",
                "customer_id": "42",
                "firstname": None,
                "lastname": None,
            },
            "reference": f"INV-{doc_id[-4:]}",
            "date": date,
            "due_date": "2026-12-02",
            "entry_number": 1,
            "state": state,
            "currency": "EUR",
            "exchange_rate": "1.0",
            "revenue_invoice": False,
            "prices_are_incl_tax": False,
            "origin": None,
            "paid_at": None,
            "tax_number": None,
            "total_price_excl_tax": "100.0",
            "total_price_excl_tax_base": "100.0",
            "total_price_incl_tax": "121.0",
            "total_price_incl_tax_base": "121.0",
            "created_at": "2026-11-02T10:00:00.000Z",
            "updated_at": "2026-11-02T10:00:00.000Z",
            "version": 1762077600,
            "details": [detail(1)],
            "payments": [],
            "notes": [],
            "attachments": [],
        }
        record.update(fields)
        self.documents[kind][doc_id] = record
        return record

    def kind_of(self, doc_id: str) -> str:
        return next(kind for kind, docs in self.documents.items() if doc_id in docs)

    def change(self, doc_id: str, **fields) -> dict:
        """Change fields of a document and bump its version, as Moneybird does on every edit."""
        record = self.documents[self.kind_of(doc_id)][doc_id]
        record.update(fields)
        record["version"] += 1
        record["updated_at"] = "2026-11-20T09:00:00.000Z"
        return record

    def move(self, doc_id: str, kind: str) -> None:
        """Turn a document into the other type (Moneybird keeps the id)."""
        record = self.documents[self.kind_of(doc_id)].pop(doc_id)
        record["version"] += 1
        self.documents[kind][doc_id] = record

    def remove(self, doc_id: str) -> None:
        self.documents[self.kind_of(doc_id)].pop(doc_id)

    # --- webhooks ---------------------------------------------------------------------------------
    def register_webhook(self, url: str, events: list[str]) -> dict:
        with self._lock:
            self._next_id += 1
            webhook_id = str(self._next_id)
        webhook = {
            "id": webhook_id,
            "administration_id": self.administration_id,
            "url": url,
            "enabled_events": events,
            "last_http_status": None,
            "last_http_body": None,
            "token": secrets.token_urlsafe(18),
        }
        self.webhooks.append(webhook)
        return webhook

    def webhook_payload(self, doc_id: str, action: str, *, webhook: dict | None = None) -> dict:
        """The body Moneybird POSTs to a webhook URL for `action` on document `doc_id`."""
        webhook = webhook or self.webhooks[-1]
        kind = next((kind for kind, docs in self.documents.items() if doc_id in docs), "purchase_invoice")
        entity = self.documents[kind].get(doc_id)
        return {
            "administration_id": self.administration_id,
            "webhook_id": webhook["id"],
            "webhook_token": webhook["token"],
            "entity_type": "Document",
            "entity_id": doc_id,
            "state": entity["state"] if entity else "destroyed",
            "action": action,
            "entity": copy.deepcopy(entity) if entity else {"id": doc_id},
        }

    def deliver(self, doc_id: str, action: str) -> None:
        """POST the webhook call for `action` to every registered URL (in the background, as Moneybird
        does; a failed delivery is only logged)."""
        for webhook in self.webhooks:
            body = json.dumps(self.webhook_payload(doc_id, action, webhook=webhook)).encode()
            threading.Thread(target=_post, args=(webhook, body), daemon=True).start()

    def window_usage(self) -> dict[int, int]:
        """Requests counted per rate-limit window (window number → requests)."""
        return dict(self.requests_per_window)

    def _count(self) -> dict[str, str] | None:
        """Count a request against the rate limit: its RateLimit-* headers, or None when over budget."""
        if self.rate_limit is None:
            return {}
        with self._lock:
            window = int((time.time() - self._started) // self.rate_window)
            self.requests_per_window[window] += 1
            used = self.requests_per_window[window]
        reset = math.ceil(self._started + (window + 1) * self.rate_window)
        headers = {
            "RateLimit-Limit": str(self.rate_limit),
            "RateLimit-Remaining": str(max(self.rate_limit - used, 0)),
            "RateLimit-Reset": str(reset),
        }
        if used > self.rate_limit:
            self.throttled += 1
            return None
        return headers

    # --- demo -------------------------------------------------------------------------------------
    def add_demo_documents(self) -> None:
        """Two dozen purchase invoices and receipts of several suppliers, states, ledgers, tax rates."""
        suppliers = ["Acme Supplies BV", "Bakkerij de Gouden Korst", "CloudHost GmbH", "Drukkerij Jansen"]
        states = ["open", "paid", "late", "pending_payment", "paid", "open"]
        for number in range(24):
            month = 8 + number % 4
            day = 1 + (number * 7) % 27
            prices = [str(Decimal("40.00") + number * Decimal("13.50")), str(Decimal("9.95") + number)]
            details = [
                detail(1, description="Office supplies", price=prices[0]),
                detail(
                    2,
                    description="Train tickets" if number % 2 else "Lunch meeting",
                    price=prices[1],
                    ledger_account_id="led-4100",
                    tax_rate_id="tax-9" if number % 3 else "tax-0",
                ),
            ]
            self.add(
                "receipt" if number % 4 == 3 else "purchase_invoice",
                state=states[number % len(states)],
                date=f"2026-{month:02d}-{day:02d}",
                created_at=f"2026-{month:02d}-{day:02d}T09:{number:02d}:00.000Z",
                contact={
                    "id": f"cont-{number % 4}",
                    "company_name": suppliers[number % 4],
                    "customer_id": str(40 + number % 4),
                },
                currency="USD" if number == 5 else "EUR",
                details=details,
                **self.totals(details),
            )
        self.add(state="new", reference="DRAFT-1")

    def totals(self, details: list[dict]) -> dict[str, str]:
        """The document totals Moneybird derives from its detail lines and their tax rates."""
        rates = {rate["id"]: Decimal(rate["percentage"]) for rate in self.tax_rates}
        excl = sum((Decimal(d["total_price_excl_tax_with_discount"]) for d in details), Decimal(0))
        tax = sum(
            (
                Decimal(d["total_price_excl_tax_with_discount"]) * rates[d["tax_rate_id"]] / 100
                for d in details
            ),
            Decimal(0),
        )
        incl = (excl + tax).quantize(CENT, rounding=ROUND_HALF_EVEN)
        return {
            "total_price_excl_tax": str(excl),
            "total_price_excl_tax_base": str(excl),
            "total_price_incl_tax": str(incl),
            "total_price_incl_tax_base": str(incl),
        }

    def demo_action(self, doc_id: str | None, action: str) -> dict:
        """What the demo page's buttons do: add, pay, amend (price +10%) or delete a document."""
        if action == "add":
            record = self.add(
                date=time.strftime("%Y-%m-%d"), created_at=time.strftime("%Y-%m-%dT%H:%M:%S.000Z")
            )
            self.deliver(record["id"], "document_saved")
            return record
        if doc_id is None or not any(doc_id in docs for docs in self.documents.values()):
            raise KeyError(doc_id)
        if action == "delete":
            self.remove(doc_id)
            self.deliver(doc_id, "document_destroyed")
            return {"id": doc_id}
        record = self.documents[self.kind_of(doc_id)][doc_id]
        if action == "pay":
            self.change(doc_id, state="paid", paid_at=time.strftime("%Y-%m-%dT%H:%M:%S.000Z"))
        elif action == "amend":
            first = record["details"][0]
            price = str((Decimal(first["price"]) * Decimal("1.1")).quantize(CENT))
            first.update(
                price=price,
                total_price_excl_tax_with_discount=price,
                total_price_excl_tax_with_discount_base=price,
            )
            self.change(doc_id, **self.totals(record["details"]))
        else:
            raise KeyError(action)
        self.deliver(doc_id, "document_updated")
        return record

    # --- faults -----------------------------------------------------------------------------------
    def fail(
        self,
        status: int,
        *,
        times: int = 1,
        method: str | None = None,
        retry_after: str | None = None,
        delay: float = 0.0,
    ) -> None:
        """Answer the next `times` requests (of `method`, if given) with `status` (after `delay` seconds)."""
        self.failures.extend(Failure(status, method, retry_after, delay) for _ in range(times))

    def posts(self) -> list[list]:
        return [ids for method, _, ids in self.requests if method == "POST"]

    def _take_failure(self, method: str) -> Failure | None:
        with self._lock:
            for index, failure in enumerate(self.failures):
                if failure.method in (None, method):
                    return self.failures.pop(index)
        return None

    # --- HTTP -------------------------------------------------------------------------------------
    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def _send(self, status: int, body, headers: dict | None = None) -> None:
                raw = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(raw)))
                for key, value in {**getattr(self, "rate_headers", {}), **(headers or {})}.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(raw)

            def do_GET(self) -> None:
                self._serve("GET")

            def do_POST(self) -> None:
                self._serve("POST")

            def _serve(self, method: str) -> None:
                url = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"null") if length else None
                if url.path.startswith("/_demo/") and method == "POST":
                    return self._demo(url.path.split("/")[2:])
                ids = body.get("ids") if isinstance(body, dict) else None
                fake.requests.append((method, url.path, ids))
                prefix = f"/api/v2/{fake.administration_id}/"
                if not url.path.startswith(prefix):
                    return self._send(404, {"error": "administration not found"})
                if self.headers.get("Authorization") != f"Bearer {fake.token}":
                    return self._send(401, {"error": "Token is invalid", "symbolic": {"token": "invalid"}})
                rate_headers = fake._count()
                if rate_headers is None:
                    return self._send(
                        429, {"error": "Too many requests"}, {"Retry-After": str(int(fake.rate_window))}
                    )
                self.rate_headers = rate_headers
                failure = fake._take_failure(method)
                if failure is not None:
                    time.sleep(failure.delay)
                    headers = {"Retry-After": failure.retry_after} if failure.retry_after else {}
                    return self._send(failure.status, {"error": f"injected {failure.status}"}, headers)
                if (
                    method == "POST"
                    and fake.fail_post_containing
                    and fake.fail_post_containing in (ids or [])
                ):
                    return self._send(500, {"error": "internal server error"})
                self._route(method, url.path[len(prefix) :], parse_qs(url.query), ids, body)

            def _demo(self, parts: list[str]) -> None:
                """POST /_demo/add or /_demo/<id>/<pay|amend|delete>."""
                doc_id, action = (None, parts[0]) if len(parts) == 1 else (parts[0], parts[-1])
                try:
                    record = fake.demo_action(doc_id, action)
                except KeyError:
                    return self._send(404, {"error": f"no document {doc_id} or action {action}"})
                return self._send(200, {"id": record["id"]})

            def _route(self, method: str, path: str, query: dict, ids, body) -> None:
                parts = path.split("/")
                if (
                    len(parts) == 3
                    and parts[0] == "documents"
                    and parts[1] in PATHS
                    and parts[2] == "synchronization.json"
                ):
                    docs = fake.documents[PATHS[parts[1]]]
                    if method == "GET":
                        return self._send(200, [{"id": i, "version": d["version"]} for i, d in docs.items()])
                    if not isinstance(ids, list):
                        return self._send(400, {"error": "ids is required"})
                    if len(ids) > 100:
                        return self._send(400, {"error": "Too many ids: at most 100 per request"})
                    return self._send(200, [copy.deepcopy(docs[i]) for i in ids if i in docs])
                if path == "webhooks.json":
                    if method == "GET":
                        return self._send(200, fake.webhooks)
                    if not isinstance(body, dict) or not isinstance(body.get("url"), str):
                        return self._send(422, {"error": "url is required"})
                    return self._send(
                        201, fake.register_webhook(body["url"], body.get("enabled_events") or [])
                    )
                if method == "GET" and path == "ledger_accounts.json":
                    return self._send(200, fake.ledger_accounts)
                if method == "GET" and path == "tax_rates.json":
                    page = int(query.get("page", ["1"])[0])
                    per_page = min(int(query.get("per_page", [fake.per_page])[0]), 100)
                    items = fake.tax_rates[(page - 1) * per_page : page * per_page]
                    headers = {}
                    if page * per_page < len(fake.tax_rates):
                        next_url = f"{fake.base_url}/{fake.administration_id}/tax_rates.json?page={page + 1}&per_page={per_page}"
                        headers["Link"] = f'<{next_url}>; rel="next"'
                    return self._send(200, items, headers)
                return self._send(404, {"error": "not found"})

        return Handler


def _post(webhook: dict, body: bytes) -> None:
    request = urllib.request.Request(  # noqa: S310 (a URL registered by the app itself)
        webhook["url"], data=body, method="POST", headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            webhook["last_http_status"] = response.status
    except OSError as exc:
        webhook["last_http_status"] = getattr(exc, "code", None)
        logger.warning("demo webhook delivery to %s failed: %s", webhook["url"], exc)
