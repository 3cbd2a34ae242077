import fs
import pytest

from project.integrations.ssh import read_text
from sessions_app.remote_log import LogPatternError, compile_pattern, find_entry

DEFAULT = r"READ (?P<filename>\S+) records=(?P<records>\d+)"


def test_finds_the_records_read_for_this_file_only():
    text = "x READ shipments_20261123_1.csv records=5\nx READ shipments_20261123_10.csv records=7\n"
    entry = find_entry(text, pattern=compile_pattern(DEFAULT), filename="shipments_20261123_1.csv")
    assert entry.records == 5
    assert entry.line == "x READ shipments_20261123_1.csv records=5"


def test_the_latest_line_about_a_file_wins():
    text = "READ a.csv records=3\nREAD a.csv records=4\n"
    assert find_entry(text, pattern=compile_pattern(DEFAULT), filename="a.csv").records == 4


def test_no_line_about_the_file_gives_none():
    assert find_entry("READ b.csv records=3\n", pattern=compile_pattern(DEFAULT), filename="a.csv") is None


@pytest.mark.parametrize(
    ("pattern", "message"),
    [("READ (?P<filename>\\S+)", "records"), ("(unclosed", "not a valid regular expression")],
)
def test_pattern_without_both_groups_is_a_configuration_error(pattern, message):
    with pytest.raises(LogPatternError, match=message):
        compile_pattern(pattern)


def test_reads_the_log_over_ssh_and_a_missing_log_is_empty(ssh_server):
    assert read_text(ssh_server.fs_url(), "upload.log") == ""
    (ssh_server.home / "upload.log").write_text("READ a.csv records=2\n")
    assert read_text(ssh_server.fs_url(), "upload.log") == "READ a.csv records=2\n"
    with fs.open_fs(ssh_server.fs_url()) as remote:
        assert remote.exists("upload.log")
