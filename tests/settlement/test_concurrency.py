"""Concurrent batches against the real PostgreSQL server: no lost counts, no deadlocks, and a settle
running between updates puts every record in exactly one settlement."""

import random
import threading
from collections import Counter
from decimal import Decimal

import pytest
from django.db import connections

from settlement import selectors, services
from settlement.errors import NothingToSettle
from settlement.models import Settlement
from tests.settlement.conftest import cdr_body, post, structure_body

pytestmark = pytest.mark.django_db(transaction=True)


def run_threads(*targets) -> None:
    """Run each callable in its own thread (own DB connection); re-raise the first failure."""
    errors: list[BaseException] = []
    start = threading.Barrier(len(targets))

    def wrap(target):
        try:
            start.wait()
            target()
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=wrap, args=(target,)) for target in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    if errors:
        raise errors[0]


def test_concurrent_updates_never_lose_a_count():
    services.create_structure(payload=structure_body("busy", aggregates=["op", "corr"]), user="t")
    expected: Counter = Counter()
    batches = []
    rng = random.Random(5)
    for worker in range(6):
        worker_batches = []
        for _ in range(12):
            # Keys overlap between workers and come in random order, to provoke lock-order deadlocks.
            records = [{"app": f"k{rng.randrange(40)}", "op": "X", "corr": f"{worker}"} for _ in range(150)]
            worker_batches.append(records)
            expected.update(record["app"] for record in records)
        batches.append(worker_batches)

    def updater(worker_batches):
        def run():
            for records in worker_batches:
                services.update_structure(settleid="busy", payload={"record": records}, user="t")

        return run

    run_threads(*(updater(b) for b in batches))
    aggregates = selectors.current_aggregates(selectors.get_structure(settleid="busy"))
    assert aggregates == {key: {"corr": str(n), "op": str(n)} for key, n in expected.items()}
    newest = selectors.structure_history(settleid="busy")[0]
    assert newest["aggregates"] == aggregates


def test_concurrent_http_updates_with_different_users_count_exactly(api_client, make_user):
    clients = [api_client(make_user(f"user{n}", groups=["back-office"])) for n in range(4)]
    post(clients[0], "/settlement/create/", structure_body("http"))
    record = {"app": "shared", "op": "X"}

    def poster(client):
        def run():
            for _ in range(10):
                response = post(client, "/settlement/http/update?touched=1", {"record": [record] * 50})
                assert response.status_code == 200, response.content

        return run

    run_threads(*(poster(c) for c in clients))
    assert clients[0].get("/settlement/http").json()["output"]["aggregates"] == {"shared": {"op": "2000"}}


def test_settle_concurrent_with_updates_counts_each_record_exactly_once():
    services.create_structure(payload=cdr_body("race"), user="t")
    workers, batches, size, keys = 4, 25, 80, 12
    done = threading.Event()
    remaining = {"workers": workers}
    lock = threading.Lock()
    # Updaters pause half-way until a settle has caught some of their records, so that settles
    # certainly fall both between and during batches, however the threads get scheduled.
    halfway = threading.Barrier(workers + 1, timeout=120)

    def updater(worker):
        def run():
            try:
                for batch in range(batches):
                    if batch == batches // 2:
                        halfway.wait()
                    records = [
                        {"operator": f"op{(worker + batch + i) % keys}", "minutes": "1", "amount": "0.01"}
                        for i in range(size)
                    ]
                    # The short reply: the one-statement append, racing the settles' exclusive lock.
                    services.update_structure(
                        settleid="race", payload={"record": records}, user="t", full=False
                    )
            finally:
                with lock:
                    remaining["workers"] -= 1
                    if remaining["workers"] == 0:
                        done.set()

        return run

    def settle() -> bool:
        try:
            services.settle_structure(settleid="race", user="settler")
        except NothingToSettle:
            return False
        return True

    def settler():
        waiting = True
        while not done.is_set():
            if settle() and waiting:
                halfway.wait()
                waiting = False
        settle()

    run_threads(*(updater(w) for w in range(workers)), settler)

    records, minutes, amount = Counter(), Counter(), Counter()
    settlements = list(Settlement.objects.filter(structure__settleid="race"))
    for settlement in settlements:
        for row in settlement.aggregates:
            records[row["operator"]] += row["records"]
            minutes[row["operator"]] += int(row["minutes"])
            amount[row["operator"]] += Decimal(row["amount"])
    total = workers * batches * size
    expected = Counter(
        f"op{(worker + batch + i) % keys}"
        for worker in range(workers)
        for batch in range(batches)
        for i in range(size)
    )
    assert records == expected
    assert minutes == expected
    assert amount == {key: Decimal("0.01") * n for key, n in expected.items()}
    assert sum(records.values()) == total
    assert sum(minutes.values()) == total
    assert sum(amount.values()) == Decimal("0.01") * total
    assert sum(1 for s in settlements if s.aggregates) >= 2, (
        "the settles should have interleaved with updates"
    )
    assert "aggregates" not in selectors.structure_state(settleid="race")
    report = selectors.verify_chain(settleid="race")
    assert report["valid"] is True
    assert report["entries"] == 1 + workers * batches + 2 * len(settlements)
