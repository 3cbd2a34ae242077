"""Appended deltas and their fold: the state is the same before and after folding."""

from settlement import services
from settlement.models import Aggregate, Structure
from tests.settlement.conftest import cdr_body, post


def test_every_nth_update_has_the_deltas_folded(api, settings):
    settings.SETTLEMENT_FOLD_EVERY = 3
    post(api, "/settlement/create/", cdr_body())
    for n in range(1, 6):
        post(api, "/settlement/cdr/update", {"record": {"operator": "TIM", "amount": "0.1", "minutes": n}})
    # Tasks run inline in tests: the fold ran after the entry that made 3 pending (create + 2 updates + 1).
    structure = Structure.objects.get()
    assert structure.folded_seq > 1
    assert Aggregate.objects.filter(field="amount").exists()
    before = api.get("/settlement/cdr").json()["output"]["aggregates"]
    assert before == {"TIM": {"amount": "0.5", "minutes": "15"}}
    services.fold_structure(structure_id=structure.pk)
    assert services.fold_structure(structure_id=structure.pk) == 0
    assert api.get("/settlement/cdr").json()["output"]["aggregates"] == before
    assert Aggregate.objects.get(key="TIM", field="minutes").total == 15


def test_fold_all_folds_every_structure(api):
    post(api, "/settlement/create/", cdr_body("one"))
    post(api, "/settlement/create/", cdr_body("two"))
    for settleid in ("one", "two"):
        post(api, f"/settlement/{settleid}/update", {"record": {"operator": "X", "amount": "1"}})
    assert services.fold_all() == 2
    assert sorted(Structure.objects.values_list("folded_seq", flat=True)) == [2, 2]
