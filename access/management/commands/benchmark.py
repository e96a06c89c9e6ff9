"""``manage.py benchmark --accesses N [--json FILE]``: how the console's pages scale.

Builds a scratch database, never the configured one: a temp SQLite file, or on
PostgreSQL a fresh ``<name>_bench`` database on the server DATABASE_URL names,
created and dropped here (through Django's test-database machinery, which
migrates it). See access/benchmark.py for the fill and the cases.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, connections
from django.urls import clear_url_caches

from access import benchmark

BENCH_URLCONF = "vpnconsole.bench_urls"


class Command(BaseCommand):
    help = "Fill a scratch database with N accesses and time every page through the full stack."
    # Some system checks open the configured database; this command must not.
    requires_system_checks: list = []

    def add_arguments(self, parser):
        parser.add_argument("--accesses", type=int, required=True, help="how many accesses (N)")
        parser.add_argument("--json", type=Path, help="also write the results to this file")
        parser.add_argument("--runs", type=int, default=40, help="timed requests per case")
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument("--no-progress", action="store_true", help="no progress bar")
        parser.add_argument(
            "--config-peers",
            type=int,
            default=benchmark.CONFIG_PEERS,
            help="peers on the config API's gateway (the case is about 10,000)",
        )
        parser.add_argument(
            "--keep",
            action="store_true",
            help="keep the scratch database afterwards and print where it is (to EXPLAIN by hand)",
        )
        parser.add_argument(
            "--strict", action="store_true", help="exit 1 when a case's response check fails"
        )

    def handle(self, *args, accesses: int, json: Path | None, runs: int, **options):
        if accesses < 100:
            raise CommandError("--accesses must be at least 100")
        if runs < 5:
            raise CommandError("--runs must be at least 5")
        # Measure what production runs: no query log, no template debug, no DEBUG pages.
        settings.DEBUG = False
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
        settings.ROOT_URLCONF = BENCH_URLCONF
        clear_url_caches()
        with ScratchDatabase(keep=options["keep"]) as scratch:
            self.stderr.write(f"scratch database: {scratch.describe()}")
            started = time.monotonic()
            fixture = fill_in_child(
                scratch,
                accesses,
                seed=options["seed"],
                config_peers=options["config_peers"],
                show_progress=not options["no_progress"],
            )
            fill_seconds = time.monotonic() - started
            scratch.after_fill()
            # Each create/reissue/delete logs a line; the console's handler would
            # write it to stderr mid-measurement.
            logging.disable(logging.INFO)
            try:
                results = benchmark.measure(fixture, runs=runs)
            finally:
                logging.disable(logging.NOTSET)
        peak_rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        fill_rss_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        report = {
            "accesses": accesses,
            "config_gateway_peers": options["config_peers"],
            "database": scratch.vendor,
            "fill_seconds": round(fill_seconds, 1),
            "peak_rss_kb": peak_rss_kb,
            "fill_peak_rss_kb": fill_rss_kb,
            "cases": [result.as_dict() for result in results],
        }
        self.stdout.write(table(report))
        if json is not None:
            json.write_text(_dumps(report))
        failed = [result.name for result in results if not result.ok]
        if failed:
            message = f"these cases did not get the response they should: {', '.join(failed)}"
            if options["strict"]:
                raise CommandError(message)
            self.stderr.write(message)


def _dumps(report: dict) -> str:
    return json_module.dumps(report, indent=2, ensure_ascii=False) + "\n"


json_module = json


def table(report: dict) -> str:
    floor = next(c["p50_ms"] for c in report["cases"] if c["name"] == "floor")
    lines = [
        f"N = {report['accesses']:,} accesses on {report['database']} "
        f"(filled in {report['fill_seconds']}s), peak RSS {report['peak_rss_kb'] / 1024:.0f} MiB "
        f"(the fill's process: {report['fill_peak_rss_kb'] / 1024:.0f} MiB)",
        f"{'case':<46} {'p50 ms':>8} {'p95 ms':>8} {'n':>4} {'×floor':>7}  ok",
    ]
    for case in report["cases"]:
        lines.append(
            f"{case['name']:<46} {case['p50_ms']:>8.2f} {case['p95_ms']:>8.2f} {case['n']:>4} "
            f"{case['p50_ms'] / floor:>7.1f}  {'yes' if case['ok'] else 'NO'}"
        )
    return "\n".join(lines)


def _fill(pipe, vendor: str, total: int, options: dict) -> None:
    if vendor == "sqlite":
        with connection.cursor() as cursor:
            # Only the fill's own connection: what is measured runs with the defaults.
            cursor.execute("PRAGMA synchronous = OFF")
            cursor.execute("PRAGMA journal_mode = MEMORY")
    pipe.send(benchmark.fill(total, **options))
    connection.close()


def fill_in_child(scratch: ScratchDatabase, total: int, **options) -> benchmark.Fixture:
    """Fill from a forked process, so that the measured process's peak RSS is what
    serving pages costs, not what building a million rows in batches cost."""
    connections.close_all()  # the child must not share the parent's database socket
    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=_fill, args=(sender, scratch.vendor, total, options))
    child.start()
    sender.close()
    try:
        fixture = receiver.recv()
    except EOFError:
        fixture = None  # the child died before sending; its traceback is on stderr
    child.join()
    if fixture is None or child.exitcode != 0:
        raise CommandError(f"the fill failed (exit code {child.exitcode})")
    return fixture


class ScratchDatabase:
    """Creates the scratch database on enter and drops it on exit, whatever happened."""

    def __init__(self, *, keep: bool = False):
        self.keep = keep
        self.vendor = connection.vendor
        self.original_name = connection.settings_dict["NAME"]
        self.tempdir: str | None = None

    def describe(self) -> str:
        return f"{self.vendor} {connection.settings_dict['NAME']}"

    def __enter__(self) -> ScratchDatabase:
        test = dict(connection.settings_dict.get("TEST") or {})
        if self.vendor == "sqlite":
            self.tempdir = tempfile.mkdtemp(prefix="vpnconsole-bench-")
            test["NAME"] = str(Path(self.tempdir) / "bench.sqlite3")
        elif self.vendor == "postgresql":
            test["NAME"] = f"{self.original_name}_bench"
        else:
            raise CommandError(f"benchmark supports SQLite and PostgreSQL, not {self.vendor}")
        connection.settings_dict["TEST"] = test
        # Django's test-database creation: a separate database, migrated, and
        # the connection switched to it; the configured database is not opened.
        connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
        return self

    def after_fill(self) -> None:
        if self.vendor == "postgresql":
            # What autovacuum would have done by the time a real table got this big.
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE")
        benchmark.ensure_connection_is_fresh()

    def __exit__(self, *exc_info) -> None:
        if self.keep:
            sys.stderr.write(f"kept the scratch database: {self.describe()}\n")
            return
        try:
            connection.creation.destroy_test_db(self.original_name, verbosity=0)
        finally:
            if self.tempdir:
                shutil.rmtree(self.tempdir, ignore_errors=True)
