"""Every query the list, each kind of search, paging and address allocation run is
answered from an index: the database's own EXPLAIN of each captured query shows
no full scan of the access or device tables.

PostgreSQL plans tiny tables with sequential scans whatever the indexes, so
there the check turns sequential scans off: it proves an index *can* answer
each query; ``manage.py benchmark`` shows the planner choosing it at scale.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from access import provisioning, search
from gateways import config, pool
from tests.helpers import make_access
from vpnconsole import roles

pytestmark = pytest.mark.postgres

TABLES = ("access_vpnaccess", "devices_device")
SQLITE_FULL_SCAN = re.compile(rf"^SCAN ({'|'.join(TABLES)})(?: AS \w+)?$")
# A server-side cursor (QuerySet.iterator() on PostgreSQL) wraps its SELECT.
DECLARE = re.compile(r"^DECLARE \S+ NO SCROLL CURSOR (?:WITH(?:OUT)? HOLD )?FOR ", re.IGNORECASE)
POSTGRES_FULL_SCAN = re.compile(rf"Seq Scan on ({'|'.join(TABLES)})\b")


def explain(sql: str) -> list[str]:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("EXPLAIN QUERY PLAN " + sql)
            return [row[-1] for row in cursor.fetchall()]
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql)
        return [row[0] for row in cursor.fetchall()]


def plans_of(run: Callable[[], object]) -> list[tuple[str, list[str]]]:
    """(sql, plan lines) of every SELECT that ``run`` sends."""
    with CaptureQueriesContext(connection) as captured:
        run()
    selects = [DECLARE.sub("", query["sql"].lstrip()) for query in captured.captured_queries]
    return [(sql, explain(sql)) for sql in selects if sql.upper().startswith("SELECT")]


def full_scans(plans: list[tuple[str, list[str]]]) -> list[tuple[str, str]]:
    pattern = SQLITE_FULL_SCAN if connection.vendor == "sqlite" else POSTGRES_FULL_SCAN
    return [
        (sql, line)
        for sql, lines in plans
        for line in lines
        if pattern.search(line.strip().lstrip("->").strip())
    ]


def assert_indexed(run: Callable[[], object]) -> list[tuple[str, list[str]]]:
    plans = plans_of(run)
    assert plans, "nothing was queried"
    assert full_scans(plans) == []
    return plans


def plan_text(plans) -> str:
    return "\n".join(line for _, lines in plans for line in lines)


@pytest.fixture
def data(contract_a, contract_b, operator_a, operator_b, support, shared_gateway):
    made = [make_access(contract_a, operator_a, name=f"sensor-{n}")[0] for n in range(6)]
    made += [make_access(contract_b, operator_b, name=f"meter-{n}")[0] for n in range(6)]
    return made


def list_page(user, q: str = "", after: str | None = None):
    def run():
        accesses = search.filter_accesses(roles.accesses_for(user), q)
        return list(search.page_of(accesses, after=after, size=3))

    return run


@pytest.mark.parametrize("role", ["operator_a", "support"])
def test_the_first_and_a_deep_page_walk_the_list_index(request, data, role):
    user = request.getfixturevalue(role)
    first = assert_indexed(list_page(user))
    index = "access_list_contract" if role == "operator_a" else "access_list_all"
    assert index in plan_text(first)
    assert "COUNT(" not in " ".join(sql.upper() for sql, _ in first)
    deep = assert_indexed(
        list_page(user, after=data[-4].public_id if role == "support" else data[2].public_id)
    )
    assert index in plan_text(deep)


@pytest.mark.parametrize("role", ["operator_a", "support"])
@pytest.mark.parametrize(
    "q",
    [
        pytest.param("full-id", id="full-id"),
        pytest.param("id-prefix", id="id-prefix"),
        pytest.param("nsor-3", id="substring-hit"),
        pytest.param("zzz-nothing", id="substring-miss"),
        pytest.param("50%_'\"", id="substring-special"),
        pytest.param("r-", id="short"),
    ],
)
def test_each_kind_of_search_uses_an_index(request, data, role, q):
    user = request.getfixturevalue(role)
    if q == "full-id":
        q = data[3].public_id
    elif q == "id-prefix":
        q = data[3].public_id[:6]
    plans = assert_indexed(list_page(user, q))
    assert_indexed(list_page(user, q, after=data[4].public_id))
    if search.search_kind(q) == "name" and connection.vendor == "postgresql":
        assert "devices_device_name_trgm" in plan_text(plans)


@pytest.mark.parametrize("q", ["sensor", "va-"])
def test_a_common_term_walks_the_list_index(data, operator_a, support, monkeypatch, q):
    monkeypatch.setattr(search, "CANDIDATES", 0)
    q = q if q != "va-" else data[0].public_id[:4]
    for user, index in [(operator_a, "access_list_contract"), (support, "access_list_all")]:
        plans = assert_indexed(list_page(user, q))
        if connection.vendor == "sqlite":  # PostgreSQL's choice here depends on statistics
            assert index in plan_text(plans)


def test_the_sqlite_trigram_index_is_used_and_kept_by_triggers(data):
    if connection.vendor != "sqlite":
        pytest.skip("SQLite's FTS5 table")
    plans = assert_indexed(lambda: search._fts_device_ids("nsor-", 10))
    assert "VIRTUAL TABLE INDEX" in plan_text(plans)
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'")
        triggers = {row[0] for row in cursor.fetchall()}
    assert {
        "devices_device_fts_insert",
        "devices_device_fts_delete",
        "devices_device_fts_update",
    } <= triggers


def test_allocation_and_the_create_checks_use_indexes(data, contract_a, operator_a, shared_gateway):
    plans = assert_indexed(
        lambda: provisioning.create_access(
            contract=contract_a, actor=operator_a, protocol="wireguard", device_name="New-One"
        )
    )
    text = plan_text(plans)
    # The case-insensitive device-name check must not read the contract's devices one by one.
    assert "devices_device_contract_name_ci" in text
    provisioning.delete_access(data[0], actor=operator_a)
    shared_gateway.refresh_from_db()
    plans = assert_indexed(lambda: pool.allocate(shared_gateway))
    assert "freeaddress" in plan_text(plans).lower()


def test_the_gateway_config_reads_the_gateways_accesses_by_index(data, shared_gateway):
    plans = assert_indexed(lambda: config.desired_config(shared_gateway))
    assert "TEMP B-TREE" not in plan_text(plans)  # read in address order, no sort
