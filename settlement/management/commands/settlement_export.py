import csv
import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from settlement.documents import settled_rows
from settlement.errors import SettleError
from settlement.selectors import get_structure, settled_entries

FORMULA_PREFIXES = ("=", "+", "-", "@")


def _text_cell(value: str) -> str:
    """Keys and field names are client text: never let a spreadsheet run them as formulas."""
    return f"'{value}" if value.startswith(FORMULA_PREFIXES) else value


class Command(BaseCommand):
    help = (
        "Export every settled entry of a structure, newest first, as CSV (one row per key and field) or JSON."
    )

    def add_arguments(self, parser):
        parser.add_argument("settle_id", metavar="settleId")
        parser.add_argument("--format", choices=["csv", "json"], default="csv", dest="fmt")
        parser.add_argument("--output", type=Path, help="File to write (default: standard output).")

    def handle(self, *args, settle_id: str, fmt: str, output: Path | None, **options):
        try:
            structure = get_structure(settleid=settle_id)
            entries = settled_entries(settleid=settle_id)
        except SettleError as exc:
            raise CommandError(exc.message) from exc
        stream = output.open("w", newline="", encoding="utf-8") if output else self.stdout
        try:
            if fmt == "json":
                document = {
                    "settleid": structure.settleid,
                    "settlementType": structure.settlement_type,
                    "primaryKey": structure.primary_key,
                    "settled": entries,
                }
                stream.write(json.dumps(document, sort_keys=True, indent=1) + "\n")
                rows = len(entries)
            else:
                writer = csv.writer(stream)
                writer.writerow(["timestamp", structure.primary_key, "field", "value"])
                rows = 0
                for entry in entries:
                    for timestamp, key, name, value in settled_rows(entry, primary_key=structure.primary_key):
                        writer.writerow([timestamp, _text_cell(str(key)), _text_cell(name), value])
                        rows += 1
        finally:
            if output:
                stream.close()
        # Progress goes to stderr so that standard output stays a clean export.
        self.stderr.write(f"{settle_id}: exported {len(entries)} settlements ({rows} {fmt} rows)")
