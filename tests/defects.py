"""The sound/defect twin machinery shared by the sync batteries, and the defects they inject."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from ondigital_connect.warehouse import DuckDBWarehouse
from ondigital_connect.warehouse import duckdb as duckdb_module

SOUND_OR_DEFECT = pytest.mark.parametrize("defect", [False, True], ids=["sound", "defect"])


def expect(defect: bool, check: Callable[[], None]) -> None:
    """Run ``check``; with a defect injected it must fail, which proves it has teeth."""
    if defect:
        with pytest.raises(AssertionError):
            check()
    else:
        check()


def keep_all_versions(monkeypatch: pytest.MonkeyPatch) -> None:
    """Defect: append instead of replace, and no in-batch de-duplication."""
    def replace(self: DuckDBWarehouse, root: object, replaced: int) -> None:
        self._run('INSERT INTO "orders" BY NAME SELECT * EXCLUDE '
                  f"({duckdb_module._FLAGS}) FROM _offered WHERE {duckdb_module._WINS}")
    monkeypatch.setattr(DuckDBWarehouse, "_replace_winners", replace)
    monkeypatch.setattr(duckdb_module, "dedupe_batch", lambda root, rows: (rows, 0))


def no_version_guard(monkeypatch: pytest.MonkeyPatch) -> None:
    """Defect: whatever version arrives last wins, older or not."""
    real = DuckDBWarehouse._classify

    def classify(self: DuckDBWarehouse, root: object, run_id: str) -> tuple[int, int, int, int]:
        real(self, root, run_id)
        self._run(f"UPDATE _offered SET {duckdb_module._WINS} = true")
        ((wins, replaced),) = self.fetch(
            f"SELECT count(*), count(*) FILTER (WHERE {duckdb_module._EXISTED}) FROM _offered")
        return 0, 0, int(wins), int(replaced)
    monkeypatch.setattr(DuckDBWarehouse, "_classify", classify)
