"""What a report is made of: sections of figures (a chart and its plain table), KPI tiles, notes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import duckdb


@dataclass(frozen=True)
class Table:
    """A plain HTML table: the numbers behind a chart, already formatted for people.

    numeric: per column, whether its cells are numbers (right-aligned).
    """

    columns: list[str]
    rows: list[list[str]]
    numeric: list[bool] = field(default_factory=list)
    #: A long table is folded into <details> under its chart instead of beside it.
    folded: bool = False

    def is_numeric(self, i: int) -> bool:
        return self.numeric[i] if i < len(self.numeric) else False

    @property
    def wide(self) -> bool:
        """Too wide to sit beside a chart (about 7 px a character, 16 px padding a cell)."""
        widths = [
            max([len(c), *(len(r[i]) for r in self.rows if i < len(r))])
            for i, c in enumerate(self.columns)
        ]
        return sum(7 * w + 16 for w in widths) > 540


@dataclass(frozen=True)
class Figure:
    """One chart (a Vega-Lite spec, rendered in the browser) with the same numbers as a table."""

    title: str
    table: Table
    spec: dict[str, Any] | None = None
    caption: str = ""


@dataclass(frozen=True)
class Kpi:
    """A headline number; metric is a stable key (data-metric in the page)."""

    metric: str
    label: str
    value: str
    detail: str = ""


@dataclass(frozen=True)
class Section:
    """One part of the page; `source` names the published tables it reads."""

    id: str
    title: str
    source: str
    intro: str = ""
    kpis: list[Kpi] = field(default_factory=list)
    figures: list[Figure] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: Ready-to-paste code (label, text), e.g. the query for the quarantined rows.
    code: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Context:
    """What every section reads: the warehouse (read-only), the day, and its tables."""

    con: duckdb.DuckDBPyConnection
    as_of: date
    #: The warehouse's own as-of day (snapshot tables hold only this day).
    warehouse_day: date
    #: Where analysts open the published warehouse (for ready-to-paste queries).
    warehouse_path: Path
    tables: frozenset[str]
    #: The currency of every amount the report shows (the money tables are read in it: see
    #: `in_currency`): the reporting or only currency; several (no [currency] reporting): the
    #: one with the most opportunities. None: the opportunities name no currency.
    currency: str | None = None
    #: Every currency of the money tables (more than one: figures per currency, not converted).
    currencies: tuple[str | None, ...] = ()

    #: The filter of a money table's rows on `currency` (one parameter: ctx.currency).
    in_currency = "currency is not distinct from ?"

    @property
    def per_currency(self) -> bool:
        """The money tables hold several currencies (no [currency] reporting)."""
        return len(self.currencies) > 1

    def has(self, *tables: str) -> bool:
        return all(t in self.tables for t in tables)

    def rows(self, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
        """Every row of a query as dicts (fetched whole: DuckDB keeps no half-read result)."""
        cur = self.con.execute(sql, params or [])
        names = [d[0] for d in cur.description or []]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
