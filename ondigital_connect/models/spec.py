"""Table specs derived from the canonical pydantic models: DDL is generated, never hand-written."""

from __future__ import annotations

import datetime as dt
import types
import typing
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from pydantic import BaseModel

from ondigital_connect.errors import ConfigError

TableKind = Literal["entity", "child", "report", "control"]

# Portable column types; each warehouse renders them in its own dialect.
MONEY = "DECIMAL(38,9)"
_SCALARS: dict[Any, str] = {
    str: "VARCHAR",
    int: "BIGINT",
    float: "DOUBLE",
    bool: "BOOLEAN",
    Decimal: MONEY,
    dt.date: "DATE",
    dt.datetime: "TIMESTAMPTZ",
}


@dataclass(frozen=True, slots=True)
class Column:
    """One warehouse column: its name, portable type and whether NULL is allowed."""

    name: str
    sql_type: str
    nullable: bool


@dataclass(frozen=True, slots=True)
class TableSpec:
    """Everything a warehouse needs to create, migrate and merge one table.

    ``kind`` decides the write rule: ``entity`` upserts by key with the ``version_column`` guard,
    ``child`` rows are replaced together with their parent (``parent`` = (table, column)),
    ``report`` rows replace a whole (account, ``window_column``) range, ``control`` is ours.
    """

    name: str
    model: type[BaseModel]
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    kind: TableKind
    version_column: str | None = None
    parent: tuple[str, str] | None = None
    window_column: str | None = None
    partition_by: str | None = None
    cluster_by: tuple[str, ...] = ()

    @property
    def column_names(self) -> tuple[str, ...]:
        """Column names in DDL order."""
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        """The column called ``name``; ConfigError if the table has none."""
        for col in self.columns:
            if col.name == name:
                return col
        raise ConfigError(f"table {self.name!r} has no column {name!r}")


def sql_type_of(annotation: Any) -> tuple[str, bool]:
    """Map a model field annotation to (portable SQL type, nullable)."""
    nullable = False
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        nullable = len(args) < len(typing.get_args(annotation))
        if len(args) != 1:
            raise ConfigError(f"unsupported union annotation {annotation!r}")
        annotation = args[0]
        origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    if annotation in _SCALARS:
        return _SCALARS[annotation], nullable
    if origin in (dict, list) or annotation in (dict, list) or annotation is Any:
        return "JSON", nullable
    raise ConfigError(f"no warehouse type for annotation {annotation!r}")


def table_spec(
    model: type[BaseModel],
    *,
    name: str,
    primary_key: tuple[str, ...],
    kind: TableKind,
    version_column: str | None = None,
    parent: tuple[str, str] | None = None,
    window_column: str | None = None,
    partition_by: str | None = None,
    cluster_by: tuple[str, ...] = (),
) -> TableSpec:
    """Build a TableSpec from a pydantic model, checking keys and hints name real columns."""
    columns = []
    for field_name, field in model.model_fields.items():
        sql_type, nullable = sql_type_of(field.annotation)
        columns.append(Column(field.alias or field_name, sql_type, nullable))
    names = {c.name for c in columns}
    named = [*primary_key, version_column, window_column, partition_by, *cluster_by]
    if parent:
        named.append(parent[1])
    missing = [n for n in named if n and n not in names]
    if missing:
        raise ConfigError(f"table {name!r}: spec names unknown columns {missing}")
    return TableSpec(
        name=name, model=model, columns=tuple(columns), primary_key=primary_key, kind=kind,
        version_column=version_column, parent=parent, window_column=window_column,
        partition_by=partition_by, cluster_by=cluster_by,
    )
