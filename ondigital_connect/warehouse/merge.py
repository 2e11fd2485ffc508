"""In-batch de-duplication of entity rows before they reach the warehouse (engine-neutral)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from ondigital_connect.models.columns import Columns
from ondigital_connect.models.spec import TableSpec
from ondigital_connect.models.tables import children_of

PARENT_SEQ = "_parent_seq"


Rows = Sequence[dict[str, Any]]  # row dicts or Columns (or an Arrow table, see dedupe_batch)


def key_of(spec: TableSpec, row: dict[str, Any]) -> Any:
    """The primary-key value of a row (a scalar for one-column keys, else a tuple)."""
    if len(spec.primary_key) == 1:
        return row[spec.primary_key[0]]
    return tuple(row[k] for k in spec.primary_key)


def column(rows: Rows, name: str) -> list[Any]:
    """One column of row dicts, ``Columns`` or an Arrow table."""
    if isinstance(rows, pa.Table):
        return rows.column(name).to_pylist()
    if isinstance(rows, Columns):
        return rows.column(name)
    return [row[name] for row in rows]


def _keys(spec: TableSpec, rows: Rows) -> list[Any]:
    parts = [column(rows, k) for k in spec.primary_key]
    return parts[0] if len(parts) == 1 else list(zip(*parts, strict=True))


def _take(rows: Rows, indexes: Sequence[int]) -> Rows:
    if isinstance(rows, pa.Table | Columns):
        return rows.take(indexes)  # type: ignore[return-value]
    return [rows[i] for i in indexes]


def _all_distinct(spec: TableSpec, rows: Rows) -> bool:
    """For an Arrow table with a one-column key, whether no key repeats (counted in Arrow)."""
    if not isinstance(rows, pa.Table) or len(spec.primary_key) != 1:
        return False
    key = rows.column(spec.primary_key[0])
    return pc.count_distinct(key, mode="all").as_py() == len(key)


def dedupe_batch(root: TableSpec, rows: Mapping[str, Rows]) -> tuple[Mapping[str, Rows], int]:
    """Keep one version per root key (newest ``version_column``; on a tie the later one).

    Children follow their parent's winning occurrence: a child row names it by
    ``_parent_seq`` (the index of its parent in the root rows) when the source sets it,
    otherwise by the parent key (and child keys are then de-duplicated, last one wins).
    Returns the de-duplicated rows and how many root rows were dropped as repeats.
    """
    root_rows = rows.get(root.name, [])
    if _all_distinct(root, root_rows):
        return rows, 0
    keys = _keys(root, root_rows)
    versions = column(root_rows, root.version_column) if root.version_column else None
    best: dict[Any, int] = {}
    for i, key in enumerate(keys):
        j = best.get(key)
        if j is None or versions is None or versions[i] >= versions[j]:
            best[key] = i
    dropped = len(keys) - len(best)
    if not dropped:
        return rows, 0
    keep = sorted(best.values())
    out: dict[str, Rows] = {root.name: _take(root_rows, keep)}
    for child in children_of(root.name):
        out[child.name] = _children_of_winners(child, rows.get(child.name, []), set(keep),
                                               root_rows)
    return out, dropped


def _children_of_winners(child: TableSpec, rows: Rows, keep: set[int], parents: Rows) -> Rows:
    if isinstance(rows, pa.Table):
        if PARENT_SEQ not in rows.column_names:
            raise ValueError(f"{child.name}: Arrow child rows need {PARENT_SEQ}")
        wanted = pa.array(sorted(keep), pa.int64())
        return rows.filter(pc.is_in(rows.column(PARENT_SEQ), value_set=wanted))
    if isinstance(rows, Columns) and PARENT_SEQ in rows.data:
        seqs = rows.data[PARENT_SEQ]
        return rows.take([i for i, seq in enumerate(seqs) if seq in keep])
    if rows and not isinstance(rows, Columns) and PARENT_SEQ in rows[0]:
        return [r for r in rows if r[PARENT_SEQ] in keep]
    assert child.parent is not None
    parent_keys = column(parents, child.parent[1])
    winners = {parent_keys[i] for i in keep}
    by_key: dict[Any, dict[str, Any]] = {}
    for row in rows:
        if row[child.parent[1]] in winners:
            by_key[key_of(child, row)] = row
    return list(by_key.values())
