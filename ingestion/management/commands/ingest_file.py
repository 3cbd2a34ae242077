import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from ingestion.models import InvoiceFile
from ingestion.services import InvalidFileName, ingest_bytes

EXIT_REJECTED = 2


class Command(BaseCommand):
    help = "Import one Letture<YYYYMMDDHHMMSSmmm>_<N>.txt file; exits non-zero when it is rejected."

    def add_arguments(self, parser):
        parser.add_argument("path", type=Path)
        parser.add_argument("--source", choices=InvoiceFile.Source.values, default=InvoiceFile.Source.MANUAL)
        parser.add_argument(
            "--json", action="store_true", dest="as_json", help="Print the report as one JSON object."
        )

    def handle(self, *args, path: Path, source: str, as_json: bool, **options):
        try:
            content = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"cannot read {path}: {exc.strerror or exc}") from exc
        if not as_json:
            self.stdout.write(f"importing {path.name} ({len(content)} bytes)…")
        try:
            report = ingest_bytes(
                name=path.name, content=content, source=source, on_progress=self._progress_printer(as_json)
            )
        except InvalidFileName as exc:
            raise CommandError(str(exc)) from exc
        if as_json:
            self.stdout.write(json.dumps(report.as_json(), ensure_ascii=False))
        else:
            self._describe(report)
        if report.status == "rejected":
            raise CommandError(f"{path.name} rejected: {report.file.reason}", returncode=EXIT_REJECTED)

    def _progress_printer(self, as_json: bool):
        # With --json stdout carries exactly one JSON object, so progress goes to stderr.
        out = self.stderr if as_json else self.stdout

        def print_progress(name: str, processed: int, total: int) -> None:
            out.write(f"{name}: {processed}/{total} records processed", style_func=str)

        return print_progress

    def _describe(self, report) -> None:
        data = report.as_json()
        self.stdout.write(
            f"{data['file']}: {data['status']}; records {data['records']} (declared {data['declared_records']}),"
            f" imported {data['imported']}, ignored {data['ignored']}, invalid {len(data['invalid'])},"
            f" not found {len(data['not_found'])}, past {len(data['past'])}"
        )
        for problem in data["invalid"]:
            self.stdout.write(f"  line {problem['line']}: {problem['reason']}")
