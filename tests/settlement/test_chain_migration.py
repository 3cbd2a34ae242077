"""Rows written before the hash chain existed are chained by the migration, in the order written,
and their aggregates are not counted again."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from settlement import selectors

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("settlement", "0004_aggregate_fillfactor")]


def test_existing_history_and_settlements_are_chained_in_order():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    created = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
    settled = created + timedelta(hours=2)
    structure = old.get_model("settlement", "Structure").objects.create(
        settleid="old",
        aggregation_metrics=["op"],
        primary_key="app",
        aggregation_type="mcCounter",
        settlement_type="none",
        sample_record={"app": "a", "op": "X"},
        created_at=created,
        created_by="api",
        last_settlement_at=settled,
    )
    history = old.get_model("settlement", "HistoryEntry").objects
    common = {"structure": structure, "user": "api"}
    history.create(operation="Create", at=created, last_settlement_at=created, resets=True, **common)
    history.create(
        operation="Update",
        at=created + timedelta(hours=1),
        last_settlement_at=created,
        delta={"a": {"op": "2"}},
        records=2,
        **common,
    )
    history.create(operation="Settle", at=settled, last_settlement_at=settled, resets=True, **common)
    history.create(
        operation="Update",
        at=settled + timedelta(hours=1),
        last_settlement_at=settled,
        delta={"b": {"op": "1"}},
        records=1,
        **common,
    )
    old.get_model("settlement", "Settlement").objects.create(
        structure=structure,
        settled_at=settled,
        settled_by="api",
        settlement_type="none",
        aggregates={"a": {"op": "2"}},
        keys=1,
    )
    # The upsert of those days had already applied the last update to the aggregates.
    old.get_model("settlement", "Aggregate").objects.create(structure=structure, key="b", field="op", count=1)

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())

    from settlement.models import HistoryEntry, Settlement

    report = selectors.verify_chain(settleid="old")
    assert (report["valid"], report["entries"]) == (True, 5)
    order = [e.operation for e in HistoryEntry.objects.order_by("seq")]
    assert order == ["Create", "Update", "Settle", "Update"]
    assert Settlement.objects.get().seq == 3  # before the Settle entry of the same moment
    assert selectors.structure_state(settleid="old")["aggregates"] == {"b": {"op": "1"}}
