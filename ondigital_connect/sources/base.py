"""The Source protocol every vendor client implements, and the values it hands the sync engine."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal, Protocol, TypeVar

from ondigital_connect.errors import ConfigError

StreamKind = Literal["entity", "report"]


@dataclass(frozen=True, slots=True)
class Window:
    """The slice of time one run reads: ``[start, end]``, both inclusive, ``end`` frozen at start.

    ``start`` is None on a first run (read everything the vendor has).
    """

    start: dt.datetime | None
    end: dt.datetime

    @property
    def is_empty(self) -> bool:
        """True when the start lies after the end (e.g. a cursor from the future)."""
        return self.start is not None and self.start > self.end


@dataclass(frozen=True, slots=True)
class StreamSpec:
    """One stream of a source: the canonical tables it writes and how it is written.

    ``tables[0]`` is the root table; the others are its children (replaced with their parent).
    ``sorted_by_cursor`` says records arrive in ascending cursor order, which lets the engine
    checkpoint after every batch; unsorted streams only advance their cursor at the end.
    """

    name: str
    tables: tuple[str, ...]
    kind: StreamKind
    sorted_by_cursor: bool = True
    default_lookback: dt.timedelta = dt.timedelta(days=2)


@dataclass(frozen=True, slots=True)
class Reject:
    """A record that failed validation: its raw form, the reason and its key if one was readable."""

    reason: str
    raw: Any
    key: str | None = None


@dataclass(frozen=True, slots=True)
class Drift:
    """A field the vendor sent that the model does not know (kept in ``extra``, recorded once)."""

    field_path: str
    example: Any = None


@dataclass(slots=True)
class Batch:
    """One bounded chunk of a stream, ready to load.

    ``rows`` maps canonical table name -> rows: dicts keyed by column name, or ``Columns``
    (the same rows held column by column, as page-at-a-time mappers build them). ``received`` counts
    the root records the vendor sent in this chunk (valid or not). ``cursor`` is the highest
    cursor value among them. A report batch names the ``report_dates`` it replaces.
    Child rows carry ``_parent_seq``, the index of their parent in the root table's list,
    so that when a key repeats within a batch only the winning version's children load.
    """

    rows: dict[str, Any] = field(default_factory=dict)  # table -> list of dicts | Columns
    rejects: list[Reject] = field(default_factory=list)
    drift: list[Drift] = field(default_factory=list)
    received: int = 0
    cursor: dt.datetime | None = None
    report_dates: tuple[dt.date, dt.date] | None = None


class Source(Protocol):
    """What every module in ``ondigital_connect.sources`` provides."""

    name: ClassVar[str]
    streams: ClassVar[Mapping[str, StreamSpec]]

    @property
    def account_id(self) -> str:
        """The vendor account this instance reads (shop domain, ad account id...)."""
        ...

    def read(self, stream: str, window: Window, *, batch_size: int) -> Iterator[Batch]:
        """Yield batches of at most about ``batch_size`` root records for ``window``."""
        ...

    def close(self) -> None:
        """Release HTTP sessions and the like."""
        ...


REGISTRY: dict[str, type[Any]] = {}
S = TypeVar("S", bound=type[Any])


def register(cls: S) -> S:
    """Class decorator: make a source reachable by its ``name`` (fails loudly on a clash)."""
    name = cls.name
    if name in REGISTRY:
        raise ConfigError(f"source {name!r} is registered twice")
    REGISTRY[name] = cls
    return cls


def get_source_class(name: str) -> type[Any]:
    """The registered source class called ``name``."""
    try:
        return REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(REGISTRY)) or "none"
        raise ConfigError(f"unknown source {name!r}; registered: {known}") from None
