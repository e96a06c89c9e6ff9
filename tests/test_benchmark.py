"""``manage.py benchmark`` fills a scratch database, never the configured one, and
measures every case through the pages with responses that are what they claim."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
# The one case that needs the list view to pass ?after= to search.page_of.
CURSOR_CASE = "list deep page (support, middle)"


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("bench")
    users_db = tmp / "users-data.sqlite3"
    users_db.write_bytes(b"not a database: the benchmark must never open it")
    before = hashlib.sha256(users_db.read_bytes()).hexdigest()
    out = tmp / "result.json"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{users_db}", "TMPDIR": str(tmp)}
    result = subprocess.run(
        [
            sys.executable,
            "manage.py",
            "benchmark",
            "--accesses",
            "300",
            "--config-peers",
            "40",
            "--runs",
            "5",
            "--json",
            str(out),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return {
        "report": json.loads(out.read_text()),
        "stdout": result.stdout,
        "stderr": result.stderr,
        "untouched": hashlib.sha256(users_db.read_bytes()).hexdigest() == before,
        "leftovers": [p for p in tmp.iterdir() if p.name.startswith("vpnconsole-bench-")],
    }


def test_it_never_touches_the_configured_database_and_removes_its_scratch(run):
    assert run["untouched"]
    assert run["leftovers"] == []


def test_it_reports_every_case_with_percentiles_and_peak_rss(run):
    report = run["report"]
    assert report["accesses"] == 300 and report["database"] == "sqlite"
    assert report["peak_rss_kb"] > 0
    names = [case["name"] for case in report["cases"]]
    for expected in [
        "floor",
        "list first page",
        CURSOR_CASE,
        "search full ID (support)",
        "search ID prefix (support)",
        "search name hit",
        "search name miss (support)",
        "detail",
        "create chain (form→confirm→create→complete)",
        "reissue (+ detail with secrets)",
        "delete",
        "gateway config 40 peers",
        "gateway config 40 peers, 304",
    ]:
        assert expected in names
    for case in report["cases"]:
        assert case["n"] >= 3 and 0 < case["p50_ms"] <= case["p95_ms"]
    assert "p50 ms" in run["stdout"] and "accesses [" in run["stderr"]


def test_every_case_got_the_response_it_measures(run):
    bad = [c["name"] for c in run["report"]["cases"] if not c["ok"] and c["name"] != CURSOR_CASE]
    assert bad == []


def test_the_deep_page_case_follows_the_cursor(run):
    assert next(c for c in run["report"]["cases"] if c["name"] == CURSOR_CASE)["ok"]
