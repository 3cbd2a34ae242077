"""Two operators pressing Start at the same moment get one session (PostgreSQL unique constraint)."""

import re
import threading

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from sessions_app.models import Session


@pytest.fixture(autouse=True)
def _tasks_stay_queued():
    from django_q.conf import Conf

    previous, Conf.SYNC = Conf.SYNC, False
    yield
    Conf.SYNC = previous


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_starts_create_one_session_and_one_already_started_message(eligible_day, make_user):
    users = [make_user("anna", groups=["operators"]), make_user("marco", groups=["operators"])]
    barrier = threading.Barrier(2)
    messages: list[str] = []

    def press_start(user) -> None:
        try:
            client = Client()
            client.force_login(user)
            barrier.wait(timeout=10)
            response = client.post("/sessions/start/", follow=True)
            # Read the rendered page: response.context is filled by a process-wide signal, shared by both threads.
            messages.extend(re.findall(r'<li class="[a-z ]*">([^<]*)</li>', response.content.decode()))
        finally:
            connection.close()

    threads = [threading.Thread(target=press_start, args=(user,)) for user in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert Session.objects.filter(day=timezone.localdate()).count() == 1
    assert sorted(m.split(" for ")[0] for m in messages) == ["Session started", "The session"]
    assert any("has already been started" in m for m in messages)
