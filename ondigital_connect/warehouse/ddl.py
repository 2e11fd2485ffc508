"""DDL rendered from table specs, per dialect, and the additive migration plan."""

from __future__ import annotations

import re

from ondigital_connect.errors import ConfigError
from ondigital_connect.models.spec import Column, TableSpec

_IDENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_BIGQUERY_TYPES = {
    "VARCHAR": "STRING", "BIGINT": "INT64", "DOUBLE": "FLOAT64", "BOOLEAN": "BOOL",
    "DECIMAL(38,9)": "NUMERIC", "DATE": "DATE", "TIMESTAMPTZ": "TIMESTAMP", "JSON": "JSON",
}


def quote(name: str, dialect: str = "duckdb") -> str:
    """Quote an identifier after checking it against the allow-list pattern."""
    if not _IDENT.match(name):
        raise ConfigError(f"invalid identifier {name!r}")
    return f"`{name}`" if dialect == "bigquery" else f'"{name}"'


def column_type(column: Column, dialect: str) -> str:
    """The column's type in ``dialect`` (DECIMAL(38,9) is NUMERIC on BigQuery)."""
    if dialect == "bigquery":
        return _BIGQUERY_TYPES[column.sql_type]
    return column.sql_type


def create_table(spec: TableSpec, dialect: str = "duckdb") -> str:
    """``CREATE TABLE IF NOT EXISTS`` for a spec, with partition/cluster hints on BigQuery."""
    cols = ",\n  ".join(
        f"{quote(c.name, dialect)} {column_type(c, dialect)}{'' if c.nullable else ' NOT NULL'}"
        for c in spec.columns
    )
    sql = f"CREATE TABLE IF NOT EXISTS {quote(spec.name, dialect)} (\n  {cols}\n)"
    if dialect == "bigquery":
        if spec.partition_by:
            col = spec.column(spec.partition_by)
            part = quote(col.name, dialect)
            sql += f"\nPARTITION BY {part if col.sql_type == 'DATE' else f'DATE({part})'}"
        if spec.cluster_by:
            sql += "\nCLUSTER BY " + ", ".join(quote(c, dialect) for c in spec.cluster_by[:4])
    return sql


def migration_plan(spec: TableSpec, existing: dict[str, str], dialect: str = "duckdb") -> list[str]:
    """ALTER statements that bring an existing table up to its spec.

    Only additive changes are automatic: a new nullable column is added. A new NOT NULL
    column or a changed type needs a deliberate migration, so it raises ConfigError.
    """
    statements = []
    for col in spec.columns:
        if col.name not in existing:
            if not col.nullable:
                raise ConfigError(
                    f"table {spec.name!r}: new column {col.name!r} is NOT NULL; add it as "
                    "nullable or migrate by hand"
                )
            statements.append(
                f"ALTER TABLE {quote(spec.name, dialect)} ADD COLUMN "
                f"{quote(col.name, dialect)} {column_type(col, dialect)}"
            )
        elif _normalise(existing[col.name]) != _normalise(column_type(col, dialect)):
            raise ConfigError(
                f"table {spec.name!r}: column {col.name!r} is {existing[col.name]} in the "
                f"warehouse but {col.sql_type} in the spec; migrate by hand"
            )
    return statements


def _normalise(sql_type: str) -> str:
    aliases = {"TIMESTAMP WITH TIME ZONE": "TIMESTAMPTZ", "INTEGER": "BIGINT", "TEXT": "VARCHAR"}
    upper = sql_type.upper().replace(" ", "") if "DECIMAL" in sql_type.upper() else sql_type.upper()
    return aliases.get(upper, upper)
