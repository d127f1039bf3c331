"""Writing many changed rows in one statement, fast enough for a reconciler cycle of 1,000 migrations.

Django's `bulk_update()` builds a `CASE WHEN pk = ... THEN ...` per row and field: for 1,000 rows and
the 14 observed fields that is some 8 seconds of Python before the database sees anything, longer
than the cycle itself. Here the rows are joined on the primary key in one statement. PostgreSQL gets
one array per column:

    UPDATE table SET state = v.state, ... FROM unnest(%s::bigint[], %s::varchar[], ...) AS v (id, state, ...)
    WHERE table.id = v.id

(15 parameters whatever the number of rows: psycopg scans the statement for placeholders at every
execute, which for a `VALUES` list of 15,000 took longer than the database's work, bench/launch.py).
SQLite 3.33+ gets a `VALUES` list:

    WITH v (id, state, ...) AS (VALUES (%s, %s, ...), ...)
    UPDATE table SET state = v.state, ... FROM v WHERE table.id = v.id

Other databases, and older SQLite, use `bulk_update()`. Values go through each field's
`get_db_prep_save()`, as Django's own saves do.
"""

import sqlite3

from django.db import connection

ROWS_PER_STATEMENT = 1000  # SQLite allows 32,766 parameters: 1,000 rows of 15 columns fit


def _supported() -> bool:
    if connection.vendor == "postgresql":
        return True
    return connection.vendor == "sqlite" and sqlite3.sqlite_version_info >= (3, 33)


def update_rows(model, rows: list, fields: list[str]) -> None:
    """Save `fields` of `rows` (instances of `model`), as `model.objects.bulk_update(rows, fields)` does."""
    if not rows:
        return
    if not _supported():
        model.objects.bulk_update(rows, fields)
        return
    meta = model._meta
    pk = meta.pk
    columns = [pk] + [meta.get_field(name) for name in fields]
    quote = connection.ops.quote_name
    names = ", ".join(quote(f.column) for f in columns)
    table = quote(meta.db_table)
    assignments = ", ".join(f"{quote(f.column)} = v.{quote(f.column)}" for f in columns[1:])
    join = f"{table}.{quote(pk.column)} = v.{quote(pk.column)}"
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            arrays = ", ".join(f"%s::{f.cast_db_type(connection)}[]" for f in columns)
            params = [
                [f.get_db_prep_save(getattr(obj, f.attname), connection=connection) for obj in rows]
                for f in columns
            ]
            cursor.execute(
                f"UPDATE {table} SET {assignments} FROM unnest({arrays}) AS v ({names}) WHERE {join}", params
            )
            return
        row = "({})".format(", ".join("%s" for _f in columns))
        for start in range(0, len(rows), ROWS_PER_STATEMENT):
            chunk = rows[start : start + ROWS_PER_STATEMENT]
            params = [
                f.get_db_prep_save(getattr(obj, f.attname), connection=connection)
                for obj in chunk
                for f in columns
            ]
            cursor.execute(
                f"WITH v ({names}) AS (VALUES {', '.join([row] * len(chunk))}) "
                f"UPDATE {table} SET {assignments} FROM v WHERE {join}",
                params,
            )
