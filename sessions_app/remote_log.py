"""Lines of the receiver's log on the remote server (read by `project.integrations.ssh`).

The receiver appends a line per file it read; SESSIONS_LOG_PATTERN (named groups `filename` and
`records`) recognises those lines.
"""

import re
from dataclasses import dataclass


class LogPatternError(ValueError):
    """SESSIONS_LOG_PATTERN is not a regex with the groups `filename` and `records`."""


@dataclass(frozen=True)
class LogEntry:
    filename: str
    records: int
    line: str


def compile_pattern(pattern: str) -> re.Pattern:
    """The configured pattern, checked for the two named groups it must have."""
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        raise LogPatternError(f"SESSIONS_LOG_PATTERN is not a valid regular expression: {exc}") from None
    missing = {"filename", "records"} - set(compiled.groupindex)
    if missing:
        raise LogPatternError(f"SESSIONS_LOG_PATTERN lacks the named group(s): {', '.join(sorted(missing))}")
    return compiled


def find_entry(text: str, *, pattern: re.Pattern, filename: str) -> LogEntry | None:
    """The last log line about `filename` (a file read twice reports its latest reading)."""
    found = None
    for line in text.splitlines():
        for match in pattern.finditer(line):
            if match["filename"] == filename and match["records"].isdigit():
                found = LogEntry(filename=filename, records=int(match["records"]), line=line.strip())
    return found
