"""Statements compiled once and run on the driver's cursor: the per-request hot path.

Executing a statement through SQLAlchemy Core costs ~12 µs of Python (compiled-cache
look-up, parameter and result processing, events), six times SQLite's own work for a
primary-key look-up (~2 µs); an audited read runs about ten statements. A
:class:`Prepared` statement is compiled once per dialect and then executed on the DBAPI
cursor of the caller's connection, inside the caller's transaction (begun first, through
SQLAlchemy, when it is not yet: the same hooks run as for any statement).

Only for statements whose columns need no SQLAlchemy type conversion: integers, text
and binary, which is what the clear columns of the hot tables are.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Iterable, Mapping
from typing import Any, cast

from sqlalchemy import Connection, Dialect
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ClauseElement

__all__ = ["Prepared"]


class Prepared:
    """One statement with named bind parameters (``bindparam("space_id")``)."""

    __slots__ = ("_compiled", "_make", "statement")

    def __init__(self, statement: ClauseElement) -> None:
        self.statement = statement
        self._compiled: dict[str, tuple[str, tuple[str, ...] | None, dict[str, Any]]] = {}
        columns = getattr(statement, "selected_columns", None)
        # Rows keep attribute access (row.id), as SQLAlchemy's rows have.
        row: Any = None if columns is None else namedtuple("Row", [c.key for c in columns])
        self._make: Callable[[Iterable[Any]], Any] | None = None if row is None else row._make

    def _for(self, dialect: Dialect) -> tuple[str, tuple[str, ...] | None, dict[str, Any]]:
        key = f"{dialect.name}:{dialect.paramstyle}"
        found = self._compiled.get(key)
        if found is None:
            compiled = cast(SQLCompiler, self.statement.compile(dialect=dialect))
            order = tuple(compiled.positiontup or ()) if compiled.positional else None
            # Literal values the statement carries (a LIMIT) are parameters too.
            defaults = {k: v for k, v in compiled.params.items() if v is not None}
            found = self._compiled[key] = (str(compiled), order, defaults)
        return found

    def _execute(self, conn: Connection, params: Mapping[str, Any], *, begin: bool = True) -> Any:
        if begin and not conn.in_transaction():
            conn.begin()  # as SQLAlchemy's autobegin would (SQLite: BEGIN IMMEDIATE)
        sql, order, defaults = self._for(conn.dialect)
        values = {**defaults, **params} if defaults else params
        bound = tuple([values[k] for k in order]) if order is not None else values
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        cursor.execute(sql, bound)
        return cursor

    def first(self, conn: Connection, params: Mapping[str, Any]) -> Any:
        """The first row (a named tuple), or ``None``."""
        cursor = self._execute(conn, params)
        try:
            row = cursor.fetchone()
        finally:
            cursor.close()
        if row is None or self._make is None:
            return row
        return self._make(row)

    def first_committed(self, conn: Connection, params: Mapping[str, Any]) -> Any:
        """The first row of a read that needs the latest committed state and no lock:
        run outside any transaction of ``conn`` (a connection just taken from the
        pool). On SQLite the single SELECT runs in autocommit, without the writers'
        ``BEGIN IMMEDIATE`` (and its in-process lock); on PostgreSQL the driver's
        implicit transaction is rolled back when the connection goes back to the pool."""
        if conn.in_transaction():
            raise RuntimeError("first_committed reads outside a transaction")
        cursor = self._execute(conn, params, begin=False)
        try:
            row = cursor.fetchone()
        finally:
            cursor.close()
        if row is None or self._make is None:
            return row
        return self._make(row)

    def all(self, conn: Connection, params: Mapping[str, Any]) -> list[Any]:
        cursor = self._execute(conn, params)
        try:
            rows = cursor.fetchall()
        finally:
            cursor.close()
        make = self._make or tuple
        return [make(row) for row in rows]

    def scalar(self, conn: Connection, params: Mapping[str, Any]) -> Any:
        """The first column of the first row, or ``None``."""
        cursor = self._execute(conn, params)
        try:
            row = cursor.fetchone()
        finally:
            cursor.close()
        return None if row is None else row[0]

    def run(self, conn: Connection, params: Mapping[str, Any]) -> int:
        """Execute a write; the number of rows it touched."""
        cursor = self._execute(conn, params)
        try:
            return int(cursor.rowcount)
        finally:
            cursor.close()
