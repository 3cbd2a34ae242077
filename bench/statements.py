"""Benchmark of the statements pipeline against PostgreSQL's own COPY, on a scratch database.

For each kind of sales file (--kinds: `generic` — the generic CSV, `dsr` — a DDEX DSR Basic Audio
1.2 flat file with heading rows, `profiled` — a Symphonic distributor statement read through its
import profile: 3-letter territories, `JUN-25` periods, `Royalty ($US)`, `distrokid` — a DistroKid
earnings TSV as the real one is written), it writes a file of --lines sales lines and runs the real
cleaning + import (storage: local files) once per --paths: `python` (the Python cleaner feeding
COPY) and `vectorised` (STATEMENTS_VECTORISED: set-based in PostgreSQL when the file is plain, else
the Python cleaner — the line says which ran). Each prints the rate and its ratio to a raw `COPY`
of the generic file into a typed table, measured in the same run (median of 3), and the CPU
seconds of this process and of its PostgreSQL backend (other sessions share the machine). Then
the report over the generic file's run, and the peak memory of the process. The scratch database is created
and dropped here.

    .venv/bin/python bench/statements.py [--lines 1000000] [--kinds generic,dsr,profiled,distrokid]
        [--paths python,vectorised]
"""

import argparse
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.scratch import migrated_django, scratch_database

SCRATCH_DB = "backoffice_statements_bench"
ARTISTS = [f"Artist {n:03d}" for n in range(300)]
DSPS = ["Spotify", "Apple Music", "Deezer", "YouTube Music", "Amazon Music", "Tidal"]
TERRITORIES = {
    "IT": "EUR",
    "US": "USD",
    "GB": "GBP",
    "DE": "EUR",
    "FR": "EUR",
    "SE": "SEK",
    "JP": "JPY",
    "BR": "BRL",
}
PERIODS = ["2026-07", "2026-08", "2026-09"]
RAW_TABLE = """CREATE TABLE bench_raw_copy (
    period varchar(7), dsp varchar(200), artist varchar(500), isrc varchar(12), upc varchar(14),
    title varchar(500), territory varchar(2), units bigint, revenue numeric(30, 16), currency varchar(3))"""


def write_sales_file(path: Path, lines: int) -> None:
    territories = list(TERRITORIES.items())
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write("period,dsp,artist,isrc,upc,title,territory,units,revenue,currency\n")
        for n in range(lines):
            territory, currency = territories[n % len(territories)]
            out.write(
                f"{PERIODS[n % 3]},{DSPS[n % 6]},{ARTISTS[n % 300]},GBAYE26{n % 100000:05d},"
                f"50567890{n % 10000:05d},Track {n % 5000},{territory},{(n * 7) % 5000},"
                f"{(n * 13) % 100000 / 10000:.6f},{currency}\n"
            )


SYMPHONIC_HEADER = (
    "Reporting Period,Label,Release Artists,UPC Code,ISRC Code,Track Artists,"
    "Digital Service Provider,Activity Period,Territory,Sale or Void,Count,Royalty ($US)\n"
)
ALPHA3 = {
    "IT": "ITA",
    "US": "USA",
    "GB": "GBR",
    "DE": "DEU",
    "FR": "FRA",
    "SE": "SWE",
    "JP": "JPN",
    "BR": "BRA",
}
DSR_HEADINGS = (
    "#SY02.02\tSummaryRecordId\tDistributionChannel\tDistributionChannelDPID\tCommercialModel\tUseType\t"
    "Territory\tServiceDescription\tUsages\tUsers\tCurrencyOfReporting\tNetRevenue\n"
    "#RE01\tBlockId\tReleaseReference\tDspReleaseId\tProprietaryReleaseId\tCatalogNumber\tICPN\t"
    "DisplayArtistName\tDisplayArtistPartyId\tTitle\tSubTitle\tReleaseType\tLabel\tPLine\tDataProvider\n"
    "#AS01.01\tBlockId\tResourceReference\tDspResourceId\tISRC\tTitle\tSubTitle\tDisplayArtistName\t"
    "DisplayArtistPartyId\tDuration\tResourceType\tIsMasterRecording\n"
    "#SU02\tBlockId\tSummaryRecordId\tSalesTransactionId\tTransactedRelease\tTransactedResource\t"
    "IsRoyaltyBearing\tNumberOfStreams\tPriceConsumerPaidExcSalesTax\tPromotionalActivity\n"
)
DSR_BLOCK = 100  # usage lines per release block


def write_profiled_file(path: Path, lines: int) -> None:
    """A Symphonic statement: the distributor layout of the issue, with Void rows."""
    territories = list(ALPHA3.values())
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write(SYMPHONIC_HEADER)
        for n in range(lines):
            artist = ARTISTS[n % 300]
            sale = "Void" if n % 50 == 0 else "Sale"
            out.write(
                f"JUN-25,Lanterna Records,{artist},50567890{n % 10000:05d},GBAYE25{n % 100000:05d},{artist},"
                f"{DSPS[n % 6]},June 2025,{territories[n % 8]},{sale},{(n * 7) % 5000},"
                f"{(n * 13) % 100000 / 10000:.4f}\n"
            )


def write_dsr_file(path: Path, lines: int) -> None:
    """A DDEX DSR Basic Audio 1.2 file: HEAD, heading rows, one summary per territory, blocks of
    one release, one resource and DSR_BLOCK usage lines, FOOT with the true counts."""
    territories = list(TERRITORIES.items())
    blocks = -(-lines // DSR_BLOCK)
    usages = [0] * len(territories)
    for n in range(lines):
        usages[n % len(territories)] += n % 500 + 1
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write(
            "HEAD\tdsrf/3.0\tBasicAudioProfile\t1.2\tMSG-BENCH\t2026-10-05T08:12:00Z\t1\t1\t2026-09-01\t"
            "2026-09-30\tPADPIDA2014120301U\tSpotify\tSpotifyPremium\tPADPIDA2026010101X\tLanterna Records\t\n"
        )
        out.write(DSR_HEADINGS)
        for index, (territory, currency) in enumerate(territories):
            out.write(
                f"SY02.02\tS{index}\tSpotify\t\tSubscriptionModel\tOnDemandStream\t{territory}\tSpotifyPremium\t"
                f"{usages[index]}\t{usages[index] // 3}\t{currency}\t{usages[index] * 37 / 10000:.4f}\n"
            )
        written = 0
        for block in range(blocks):
            artist = ARTISTS[block % 300]
            out.write(
                f"RE01\tB{block}\tREL{block}\tSP-REL-{block}\t\t\t50567890{block % 10000:05d}\t{artist}\t\t"
                f"Album {block}\t\tAlbum\tLanterna Records\t\t\n"
                f"AS01.01\tB{block}\tR1\tSP-RES-{block}\tGBAYE26{block % 100000:05d}\tTrack {block}\t\t{artist}"
                "\t\tPT3M00S\tSoundRecording\ttrue\n"
            )
            for _ in range(min(DSR_BLOCK, lines - written)):
                n = written
                out.write(f"SU02\tB{block}\tS{n % len(territories)}\tT{n}\t\tR1\ttrue\t{n % 500 + 1}\t\t\n")
                written += 1
        total = 1 + 4 + len(territories) + 2 * blocks + lines + 1
        out.write(f"FOOT\t{total}\t{total}\t{len(territories)}\t{blocks}\t{blocks}\n")


DISTROKID_HEADER = (
    "Reporting Date\tSale Month\tStore\tArtist\tTitle\tISRC\tUPC\tQuantity\tTeam Percentage\tSong/Album\t"
    "Country of Sale\tSongwriter Royalties Withheld\tEarnings (USD)\r\n"
)


def write_distrokid_file(path: Path, lines: int) -> None:
    """A DistroKid earnings export as the real one is written (../shared/realdata's
    trackshift_DistroKid_Test.tsv): tab-separated, CRLF, 8-decimal USD earnings."""
    territories = list(TERRITORIES)
    with path.open("w", encoding="utf-8", newline="") as out:
        out.write(DISTROKID_HEADER)
        for n in range(lines):
            kind = "Album" if n % 20 == 0 else "Song"
            out.write(
                f"2026-10-0{n % 9 + 1}\t{PERIODS[n % 3]}\t{DSPS[n % 6]}\t{ARTISTS[n % 300]}\tSong {n % 5000}\t"
                f"GBAYE26{n % 100000:05d}\t50567890{n % 10000:05d}\t{(n * 7) % 50 + 1}\t100\t{kind}\t"
                f"{territories[n % 8]}\t0\t{(n * 13) % 100000 / 1e8:.8f}\r\n"
            )


WRITERS = {
    "generic": write_sales_file,
    "dsr": write_dsr_file,
    "profiled": write_profiled_file,
    "distrokid": write_distrokid_file,
}
NAMES = {
    "generic": "bench.csv",
    "dsr": "DSR_bench_1of1.tsv",
    "profiled": "symphonic.csv",
    "distrokid": "distrokid.tsv",
}


def raw_copy_seconds(path: Path) -> float:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(RAW_TABLE)
        timings = []
        for _ in range(3):
            cursor.execute("TRUNCATE bench_raw_copy")
            with path.open("rb") as source:
                started = time.perf_counter()
                cursor.copy_expert("COPY bench_raw_copy FROM STDIN WITH (FORMAT csv, HEADER true)", source)
                timings.append(time.perf_counter() - started)
        cursor.execute("DROP TABLE bench_raw_copy")
    return statistics.median(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--kinds", default="generic,dsr,profiled,distrokid")
    parser.add_argument("--paths", default="python,vectorised")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="statements-bench-"))
    with scratch_database(SCRATCH_DB) as url:
        run(url, args.lines, args.kinds.split(","), args.paths.split(","), workdir)


def pipeline_seconds(kind: str, source: Path, lines: int, copy_rate: float, path: str):
    """Clean + import one file through the real pipeline, with the set-based path allowed
    (`vectorised`) or not (`python`); prints the figures and the path taken, returns the file."""
    from django.conf import settings
    from django.core.files.storage import default_storage

    from statements import pipeline, services, vectorised

    settings.STATEMENTS_VECTORISED = path == "vectorised"
    sales_file = services.create_sales_file(name=NAMES[kind], user=None)
    with source.open("rb") as content:
        default_storage.save(sales_file.upload_key, content)
    sales_file = services.mark_uploaded(sales_file, allow_duplicate=True, reason="benchmark")
    staged = vectorised.staged
    taken = []
    vectorised.staged = lambda *args: taken.append(staged(*args)) or taken[-1]
    backend = backend_cpu_seconds()
    started, python_started = time.perf_counter(), time.process_time()
    try:
        # Python: cleaning and import overlap, the COPY is fed while the file is cleaned.
        imported = pipeline.clean_and_import(sales_file.pk)
    finally:
        vectorised.staged = staged
    total_seconds = time.perf_counter() - started
    python_cpu, backend = time.process_time() - python_started, backend_cpu_seconds() - backend
    assert imported.status == "PROCESSED", imported.failure_reason
    assert imported.lines_valid == lines, (imported.lines_valid, imported.lines_rejected)
    rate = lines / total_seconds
    took = "set-based" if any(taken) else "Python cleaner" + (" (not plain)" if taken else "")
    print(
        f"{kind} ({imported.format}), {took}: cleaning + import {total_seconds:.2f}s = {rate:,.0f} rows/s; "
        f"ratio to raw COPY {rate / copy_rate:.3f}; CPU: Python {python_cpu:.2f}s, PostgreSQL backend {backend:.2f}s"
    )
    return imported


def backend_cpu_seconds() -> float:
    """CPU seconds (user + system) the default connection's PostgreSQL backend has used so far, read
    from /proc: the machine is shared, so wall time alone does not say whose work it was. NaN when
    the server runs elsewhere."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(url: str, lines: int, kinds: list[str], paths: list[str], workdir: Path) -> None:
    os.environ.pop("AWS_STORAGE_BUCKET_NAME", None)
    try:
        # A 10M-line file is over the default upload limit; the benchmark measures throughput.
        # A persistent connection: queuing a task once an import commits (the sums kept per file)
        # closes a connection past its age, and the backend CPU read after it would be another's.
        migrated_django(
            url,
            VAR_DIR=str(workdir / "var"),
            STATEMENTS_MAX_UPLOAD_BYTES=str(1 << 40),
            DATABASE_CONN_MAX_AGE="3600",
        )
        from statements import services
        from statements.report import build_report

        generic = workdir / "sales.csv"
        write_sales_file(generic, lines)
        copy_seconds = raw_copy_seconds(generic)
        copy_rate = lines / copy_seconds
        print(
            f"raw COPY of {lines:,} generic lines into a typed table: {copy_seconds:.2f}s (median of 3) = {copy_rate:,.0f} rows/s"
        )
        files = {}
        for kind in kinds:
            source = generic if kind == "generic" else workdir / NAMES[kind]
            if source != generic:
                started = time.perf_counter()
                WRITERS[kind](source, lines)
                print(
                    f"generated {kind}: {source.stat().st_size / 1e6:.1f} MB in {time.perf_counter() - started:.1f}s"
                )
            for path in paths:
                files[kind] = pipeline_seconds(kind, source, lines, copy_rate, path)
            if source != generic:
                source.unlink()
        if "generic" not in files:
            return
        imported = files["generic"]

        run = services.create_run(
            name="bench",
            currency="EUR",
            artists=[],
            dsps=[],
            periods=[],
            period_from="",
            period_to="",
            sales_file_ids=[imported.pk],
            user=None,
        )
        rates = [
            {"currency": currency, "period": period, "rate": "0.912345"}
            for currency in sorted(set(TERRITORIES.values()) - {"EUR"})
            for period in PERIODS
        ]
        services.replace_rates(run=run, items=rates, user=None)
        timings = []
        for _ in range(3):
            started = time.perf_counter()
            report = build_report(run)
            timings.append(time.perf_counter() - started)
        print(
            f"report over the run: {statistics.median(timings):.2f}s (median of 3), {len(report.rows):,} rows, "
            f"grand total {report.grand_total} {report.currency}"
        )
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak memory of this process: {peak_mb:.0f} MB")
    finally:
        from django.db import connections

        connections.close_all()
        for path in sorted(workdir.rglob("*"), reverse=True):
            path.unlink() if path.is_file() else path.rmdir()
        workdir.rmdir()


if __name__ == "__main__":
    main()
