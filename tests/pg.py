"""A throwaway PostgreSQL server from Debian's ``postgresql`` package.

As a pytest plugin (``-p tests.pg`` in pyproject.toml): ``pytest --postgres``
starts one cluster for the session before Django reads its settings, points
DATABASE_URL at it (pytest-django then creates and drops its test database
there) and removes the cluster at the end. Without the package the session's
tests skip, or fail when VPNCONSOLE_REQUIRE_E2E=1 (CI).

As a script, for the benchmark and by hand::

    python -m tests.pg -- python manage.py benchmark --accesses 100000

runs the command with DATABASE_URL pointing at a fresh cluster, then removes it.

initdb refuses to run as root, so as root the server runs as ``nobody`` from a
temp dir that ``nobody`` owns. It listens on 127.0.0.1 only, on a free port,
with ``trust`` authentication (nothing else can reach it) and with fsync off:
nothing in it outlives the run.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

SUPERUSER = "postgres"
DATABASE = "vpnconsole"
UNPRIVILEGED = "nobody"


class PostgresUnavailable(Exception):
    """The postgresql package is not installed or the server did not start."""


def find_bindir() -> Path | None:
    """The newest installed server's bin directory (``/usr/lib/postgresql/<v>/bin``),
    or VPNCONSOLE_PG_BINDIR's when that is set."""
    chosen = os.environ.get("VPNCONSOLE_PG_BINDIR")
    if chosen:
        return Path(chosen) if (Path(chosen) / "initdb").exists() else None
    found = glob.glob("/usr/lib/postgresql/*/bin/initdb")
    if not found:
        return None
    newest = max(found, key=lambda path: int(Path(path).parent.parent.name))
    return Path(newest).parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Cluster:
    """One server in a temp dir; ``url(name)`` gives a DATABASE_URL for a database in it."""

    def __init__(self, bindir: Path):
        self.bindir = bindir
        self.root = Path(tempfile.mkdtemp(prefix="vpnconsole-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.port = 0
        self._as_user: list[str] = []
        if os.geteuid() == 0:
            user = pwd.getpwnam(UNPRIVILEGED)
            os.chown(self.root, user.pw_uid, user.pw_gid)
            self._as_user = ["runuser", "-u", UNPRIVILEGED, "--"]

    def _run(self, *args: str) -> None:
        result = subprocess.run(
            [*self._as_user, *args],
            cwd=self.root,
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            log = self.log.read_text() if self.log.exists() else ""
            raise PostgresUnavailable(
                f"{' '.join(args[:2])} failed ({result.returncode}):\n"
                f"{result.stdout}{result.stderr}{log}"
            )

    def start(self) -> None:
        self._run(
            str(self.bindir / "initdb"),
            "-D",
            str(self.data),
            "-U",
            SUPERUSER,
            "--auth=trust",
            "--encoding=UTF8",
            # C.UTF-8: byte order, yet Unicode character classes, which pg_trgm
            # needs to take Japanese device names as word characters.
            "--locale=C.UTF-8",
            "--no-sync",
        )
        for attempt in range(5):
            self.port = _free_port()
            options = (
                f"-c listen_addresses=127.0.0.1 -p {self.port} "
                f"-c unix_socket_directories={self.root} "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
                "-c max_connections=60"
            )
            try:
                self._run(
                    str(self.bindir / "pg_ctl"),
                    "-D",
                    str(self.data),
                    "-l",
                    str(self.log),
                    "-o",
                    options,
                    "-w",
                    "-t",
                    "60",
                    "start",
                )
                return
            except PostgresUnavailable:
                if attempt == 4:  # the port was taken between probe and start
                    raise
                time.sleep(0.2)

    def url(self, database: str = DATABASE) -> str:
        return f"postgres://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> None:
        import psycopg

        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')

    def stop(self) -> None:
        if self.port:
            with contextlib.suppress(PostgresUnavailable):
                self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "fast", "stop")
        shutil.rmtree(self.root, ignore_errors=True)


@contextlib.contextmanager
def running_cluster() -> Iterator[Cluster]:
    bindir = find_bindir()
    if bindir is None:
        raise PostgresUnavailable("PostgreSQL is not installed (Debian package postgresql)")
    cluster = Cluster(bindir)
    try:
        cluster.start()
        cluster.create_database(DATABASE)
        yield cluster
    finally:
        cluster.stop()


# The pytest plugin.

_cluster: contextlib.ExitStack | None = None
_unavailable: str = ""


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--postgres",
        action="store_true",
        help="run against a throwaway PostgreSQL server (only tests marked postgres)",
    )


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config, parser, args) -> None:
    """Start the server before pytest-django imports the settings that read DATABASE_URL."""
    global _cluster, _unavailable
    if not parser.parse_known_args(args).postgres:
        return
    stack = contextlib.ExitStack()
    try:
        cluster = stack.enter_context(running_cluster())
    except PostgresUnavailable as error:
        _unavailable = str(error)
        return
    _cluster = stack
    os.environ["DATABASE_URL"] = cluster.url()


def pytest_report_header(config: pytest.Config) -> str | None:
    if config.getoption("postgres"):
        return f"postgres: {os.environ.get('DATABASE_URL') or _unavailable}"
    return None


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("postgres"):
        # Only the database-specific tests: the rest ran on SQLite already.
        config.option.markexpr = " and ".join(
            part for part in ("postgres", config.option.markexpr) if part
        )


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.config.getoption("postgres") and _unavailable:
        from tests.e2e import missing

        missing(_unavailable)


def pytest_unconfigure(config: pytest.Config) -> None:
    global _cluster
    if _cluster is not None:
        _cluster.close()
        _cluster = None


def main(argv: list[str]) -> int:
    if argv and argv[0] == "--":
        argv = argv[1:]
    if not argv:
        print("usage: python -m tests.pg -- COMMAND [ARGS...]", file=sys.stderr)
        return 2
    with running_cluster() as cluster:
        env = {**os.environ, "DATABASE_URL": cluster.url()}
        return subprocess.run(argv, env=env, check=False).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
