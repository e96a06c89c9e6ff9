"""Indexes for device-name search (see access/search.py for how they are used).

SQLite: an external-content FTS5 table with the ``trigram`` tokenizer over
devices_device.name, kept in sync by triggers.

PostgreSQL: pg_trgm's GIN index on upper(name), because Django's ``icontains``
compares ``UPPER("name"::text)``.

Both: an index that answers Django's ``name__iexact`` within a contract, which
the create form and provisioning ask before every create. The unique
(contract, lower(name)) index cannot: iexact is ``name LIKE 'x'`` on SQLite
(a range on a NOCASE index) and ``UPPER(name) = UPPER('x')`` on PostgreSQL.

Neither is declared in the model's Meta because neither can be written in a way
both databases accept. Beware on SQLite: a later migration that makes Django
rebuild devices_device (most AlterField operations do) drops these triggers with
the old table; tests/test_query_plans.py checks that they still exist.
"""

from django.db import migrations

SQLITE_FORWARD = [
    "CREATE VIRTUAL TABLE devices_device_fts USING fts5("
    "name, content='devices_device', content_rowid='id', tokenize='trigram')",
    "CREATE TRIGGER devices_device_fts_insert AFTER INSERT ON devices_device BEGIN "
    "INSERT INTO devices_device_fts(rowid, name) VALUES (new.id, new.name); END",
    "CREATE TRIGGER devices_device_fts_delete AFTER DELETE ON devices_device BEGIN "
    "INSERT INTO devices_device_fts(devices_device_fts, rowid, name) "
    "VALUES ('delete', old.id, old.name); END",
    "CREATE TRIGGER devices_device_fts_update AFTER UPDATE OF name ON devices_device BEGIN "
    "INSERT INTO devices_device_fts(devices_device_fts, rowid, name) "
    "VALUES ('delete', old.id, old.name); "
    "INSERT INTO devices_device_fts(rowid, name) VALUES (new.id, new.name); END",
    "INSERT INTO devices_device_fts(devices_device_fts) VALUES ('rebuild')",
    "CREATE INDEX devices_device_contract_name_ci ON devices_device "
    "(contract_id, name COLLATE NOCASE)",
]
SQLITE_BACKWARD = [
    "DROP INDEX IF EXISTS devices_device_contract_name_ci",
    "DROP TRIGGER IF EXISTS devices_device_fts_update",
    "DROP TRIGGER IF EXISTS devices_device_fts_delete",
    "DROP TRIGGER IF EXISTS devices_device_fts_insert",
    "DROP TABLE IF EXISTS devices_device_fts",
]

POSTGRES_FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX devices_device_name_trgm ON devices_device "
    "USING gin ((upper(name::text)) gin_trgm_ops)",
    "CREATE INDEX devices_device_contract_name_ci ON devices_device "
    "(contract_id, (upper(name::text)))",
]
POSTGRES_BACKWARD = [
    "DROP INDEX IF EXISTS devices_device_contract_name_ci",
    "DROP INDEX IF EXISTS devices_device_name_trgm",
]

STATEMENTS = {
    "sqlite": (SQLITE_FORWARD, SQLITE_BACKWARD),
    "postgresql": (POSTGRES_FORWARD, POSTGRES_BACKWARD),
}


def _run(schema_editor, direction: int) -> None:
    statements = STATEMENTS.get(schema_editor.connection.vendor)
    if statements is None:
        return  # another database: search still works, by scanning
    for sql in statements[direction]:
        schema_editor.execute(sql)


def forward(apps, schema_editor):
    _run(schema_editor, 0)


def backward(apps, schema_editor):
    _run(schema_editor, 1)


class Migration(migrations.Migration):
    dependencies = [
        ("devices", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(forward, backward, elidable=False),
    ]
