"""Tokens issued before scopes existed become legacy full-access tokens (the documented choice)."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [("project", "0002_groups")]
AFTER = [("project", "0003_api_token_scopes")]


def test_existing_tokens_keep_working_with_every_scope_flagged_legacy(make_user):
    user = make_user("old-client")
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old_apps = executor.loader.project_state(BEFORE).apps
    old_apps.get_model("project", "ApiToken").objects.create(
        user_id=user.pk, name="old", prefix="bo_old", digest="d" * 64
    )
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())

    from project.models import ApiToken

    token = ApiToken.objects.get(name="old")
    assert token.legacy
    assert token.scope_labels == ["settlement:write", "statements:write", "exports:write"]
