"""Set-based writes the ORM has no statement for.

`update_rows` changes many rows, each to its own values, in one UPDATE … FROM (VALUES …): the
statement Django's `bulk_update` would need, without building a CASE expression per row per
field (which costs more than the database's work at a few hundred rows). PostgreSQL and SQLite
(3.33 and later) both name the columns of a VALUES list column1, column2, …
"""

from collections.abc import Sequence, Sized
from functools import cache
from typing import TypeVar

from django.db import connection, models
from django.db.models.expressions import DatabaseDefault

M = TypeVar("M", bound=models.Model)


def parameter_marks(values: Sized) -> str:
    """One placeholder per value, for an IN (...) list or a VALUES row: "%s, %s, %s"."""
    return ", ".join(["%s"] * len(values))


def column_list(model: type[models.Model], alias: str = "") -> str:
    """Every column of the model, in field order (for RETURNING, or to read rows back into
    instances with `raw`), each prefixed with `alias.` when given."""
    prefix = f"{alias}." if alias else ""
    return ", ".join(f"{prefix}{field.column}" for field in model._meta.concrete_fields)


def first_row(model: type[M], sql: str, params: Sequence) -> M | None:
    """The first row a written-out statement returns (a SELECT, or a write with RETURNING
    `column_list(model)`) as an instance of `model`, or None."""
    return next(iter(model.objects.raw(sql, params)), None)


def update_rows(model: type[models.Model], fields: Sequence[str], rows: Sequence[Sequence]) -> int:
    """Set `fields` of each row of `model` whose primary key is a row's first value to the
    row's other values, in order; how many rows changed."""
    if not rows:
        return 0
    meta = model._meta
    columns = [meta.get_field(name) for name in fields]
    key = meta.pk
    casts = [_cast(key), *(_cast(field) for field in columns)]
    one_row = "(" + ", ".join(casts) + ")"
    assignments = ", ".join(
        f"{connection.ops.quote_name(field.column)} = v.column{index}"
        for index, field in enumerate(columns, start=2)
    )
    table = connection.ops.quote_name(meta.db_table)
    values = ", ".join([one_row] * len(rows))
    key_column = connection.ops.quote_name(key.column)
    # Only quoted names from the model's own meta are formatted in; values are parameters.
    sql = f"UPDATE {table} SET {assignments} FROM (VALUES {values}) AS v WHERE {table}.{key_column} = v.column1"  # noqa: S608, E501
    params = []
    for row in rows:
        params.append(key.get_db_prep_value(row[0], connection))
        params.extend(
            field.get_db_prep_value(value, connection)
            for field, value in zip(columns, row[1:], strict=True)
        )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def _cast(field: models.Field) -> str:
    """A placeholder typed as the column, so PostgreSQL reads the VALUES list's types right
    (SQLite needs none, and would read a date cast to its type name as a number)."""
    if connection.vendor != "postgresql":
        return "%s"
    return f"CAST(%s AS {field.cast_db_type(connection)})"


def insert_row(obj: models.Model) -> None:
    """Insert `obj` in one statement and set its id: `save(force_insert=True)` without the
    query compiler, whose work on a wide model costs more than the insert, for rows written
    on every text or consent change."""
    table, columns, marks, fields = _insert_statement(type(obj), connection.vendor)
    sql = f"INSERT INTO {table} ({columns}) VALUES ({marks})"  # noqa: S608
    _insert_returning(obj, sql, _insert_params(obj, fields))


def insert_unless(obj: models.Model, unless_sql: str, unless_params: Sequence) -> bool:
    """Insert `obj` in one statement unless `unless_sql` (a SELECT) finds a row or the row
    would break a unique constraint; whether it was inserted (then its id is set).

    INSERT … SELECT … WHERE NOT EXISTS … ON CONFLICT DO NOTHING: the check and the write are
    one round trip, and a concurrent duplicate is skipped instead of raising.
    """
    table, columns, marks, fields = _insert_statement(type(obj), connection.vendor)
    sql = (
        f"INSERT INTO {table} ({columns}) SELECT {marks}"
        f" WHERE NOT EXISTS ({unless_sql}) ON CONFLICT DO NOTHING"
    )
    return _insert_returning(obj, sql, [*_insert_params(obj, fields), *unless_params])


def insert_unless_conflict(obj: models.Model, unique_fields: Sequence[str]) -> bool:
    """Insert `obj` unless a row with the same `unique_fields` (a unique constraint's) exists,
    perhaps stored by a concurrent writer first; whether it was inserted (then its id is set).
    A clash on any other constraint still raises."""
    table, columns, marks, fields = _insert_statement(type(obj), connection.vendor)
    meta = obj._meta
    target = ", ".join(
        connection.ops.quote_name(meta.get_field(name).column) for name in unique_fields
    )
    sql = f"INSERT INTO {table} ({columns}) VALUES ({marks}) ON CONFLICT ({target}) DO NOTHING"  # noqa: S608
    return _insert_returning(obj, sql, _insert_params(obj, fields))


def update_row(obj: models.Model, fields: Sequence[str]) -> int:
    """`obj.save(update_fields=fields)` without the query compiler, for rows changed on every
    text or consent change: one UPDATE by primary key (auto_now fields named get the time);
    how many rows it changed. Sends no signals, like `QuerySet.update`."""
    sql, columns = _update_statement(type(obj), tuple(fields), connection.vendor)
    params = [
        field.get_db_prep_save(field.pre_save(obj, add=False), connection) for field in columns
    ]
    params.append(obj.pk)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


@cache
def _insert_statement(
    model: type[models.Model], vendor: str
) -> tuple[str, str, str, tuple[models.Field, ...]]:
    """The table, column list, placeholders and fields of a new row (the statement's text
    depends only on the model and the database, so it is built once per process)."""
    fields = tuple(field for field in model._meta.concrete_fields if not field.primary_key)
    columns = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    return _quoted_table(model), columns, parameter_marks(fields), fields


@cache
def _unnest_statement(model: type[models.Model]) -> tuple[str, tuple[models.Field, ...]]:
    """PostgreSQL's INSERT … SELECT FROM unnest(one array per column) RETURNING id."""
    table, columns, _, fields = _insert_statement(model, "postgresql")
    arrays = ", ".join(f"%s::{field.cast_db_type(connection)}[]" for field in fields)
    key = connection.ops.quote_name(model._meta.pk.column)
    return f"INSERT INTO {table} ({columns}) SELECT * FROM unnest({arrays}) RETURNING {key}", fields  # noqa: S608


@cache
def _update_statement(
    model: type[models.Model], names: tuple[str, ...], vendor: str
) -> tuple[str, tuple[models.Field, ...]]:
    meta = model._meta
    fields = tuple(meta.get_field(name) for name in names)
    assignments = ", ".join(f"{connection.ops.quote_name(field.column)} = %s" for field in fields)
    key = connection.ops.quote_name(meta.pk.column)
    return f"UPDATE {_quoted_table(model)} SET {assignments} WHERE {key} = %s", fields  # noqa: S608


def _quoted_table(model: type[models.Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _insert_params(obj: models.Model, fields: Sequence[models.Field]) -> list:
    _fill_defaults([obj])
    return [field.get_db_prep_save(getattr(obj, field.attname), connection) for field in fields]


def _insert_returning(obj: models.Model, sql: str, params: list) -> bool:
    key = connection.ops.quote_name(obj._meta.pk.column)
    with connection.cursor() as cursor:
        cursor.execute(f"{sql} RETURNING {key}", params)
        row = cursor.fetchone()
    if row is None:
        return False
    obj.pk = row[0]
    obj._state.adding = False
    obj._state.db = connection.alias
    return True


def _fill_defaults(objs: Sequence[models.Model]) -> None:
    """What Django's INSERT would fill in: database defaults' values and auto_now times."""
    for obj in objs:
        with_db_default, stamped = _defaulted_fields(type(obj))
        for field in with_db_default:
            if isinstance(getattr(obj, field.attname), DatabaseDefault):
                default = field.db_default
                setattr(obj, field.attname, getattr(default, "value", default))
        for field in stamped:
            field.pre_save(obj, add=True)


@cache
def _defaulted_fields(
    model: type[models.Model],
) -> tuple[tuple[models.Field, ...], tuple[models.Field, ...]]:
    """The model's fields with a database default, and those stamped with the time."""
    fields = model._meta.concrete_fields
    return (
        tuple(field for field in fields if field.has_db_default()),
        tuple(
            field
            for field in fields
            if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
        ),
    )


def insert_rows(objs: Sequence[models.Model]) -> None:
    """`bulk_create` for many new rows of one model, their ids set; on PostgreSQL as one
    INSERT … SELECT FROM unnest(arrays), one array per column, so the statement stays a few
    parameters long whatever the number of rows (Django's multi-row VALUES is parsed by the
    driver parameter by parameter and costs more than the insert)."""
    if not objs:
        return
    model = type(objs[0])
    if connection.vendor != "postgresql":
        model.objects.bulk_create(objs)
        return
    _fill_defaults(objs)
    sql, fields = _unnest_statement(model)
    params = [
        [field.get_db_prep_save(getattr(obj, field.attname), connection) for obj in objs]
        for field in fields
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        for obj, (pk,) in zip(objs, cursor.fetchall(), strict=True):
            obj.pk = pk
            obj._state.adding = False
            obj._state.db = connection.alias
