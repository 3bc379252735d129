"""The data dictionary: one YAML file per published table, applied as DuckDB comments and rendered.

Every mart `sql/marts/<model>.sql` has a `sql/marts/<model>.yml` beside it:

    description: >-
      One paragraph: what a row is, the grain, formulas of the metrics.
    grain: (day, stage)          # optional; else the model's `-- grain:` header line
    columns:
      column_name: what it means, units, formula where it is a metric

`columns` lists every column of the table, in table order. The build applies the descriptions with
`COMMENT ON TABLE` / `COMMENT ON COLUMN` and fails, naming the file and the column to add, when a
published table or column has no description or the file names a column the table lacks. The same
files render the page docs/data_dictionary.md (`funnel docs`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import yaml

from funnel.errors import FunnelError
from funnel.sqlmodels import SQL_DIR

MARTS_DIR = SQL_DIR / "marts"
#: The keys a dictionary file may hold.
KEYS: tuple[str, ...] = ("description", "grain", "columns")
_GRAIN = re.compile(r"^--\s*grain:\s*(?P<grain>.+?)\s*$", re.MULTILINE)


class DictionaryError(FunnelError):
    """A dictionary file is missing, malformed, or does not match its table."""


@dataclass(frozen=True)
class TableDoc:
    """The description of one published table and of each of its columns (in file order)."""

    name: str
    path: Path
    description: str
    grain: str | None
    columns: dict[str, str]


def _show(path: Path) -> str:
    """The path as a reader finds it in the repository (sql/marts/x.yml), else in full."""
    try:
        return str(path.relative_to(SQL_DIR.parent))
    except ValueError:
        return str(path)


def _text(value: Any, where: str) -> str:
    """A non-empty description text, whitespace folded to single spaces."""
    if not isinstance(value, str) or not value.strip():
        raise DictionaryError(f"{where} must be a non-empty text (got {value!r})")
    return " ".join(value.split())


def _sql_grain(sql_path: Path) -> str | None:
    """The `-- grain:` header line of the model's SQL, where it has one."""
    if not sql_path.is_file():
        return None
    match = _GRAIN.search(sql_path.read_text(encoding="utf-8"))
    return match.group("grain") if match else None


#: libyaml's parser where PyYAML has it (the same safe constructor, several times faster: every
#: run reads all the dictionary files).
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load(path: Path) -> TableDoc:
    """Read and check one dictionary file; errors name the file and the key."""
    shown = _show(path)
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)
    except yaml.YAMLError as exc:
        raise DictionaryError(f"{shown}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise DictionaryError(f"{shown}: expected a mapping with `description` and `columns`")
    unknown = [str(k) for k in data if k not in KEYS]
    if unknown:
        raise DictionaryError(
            f"{shown}: unknown key(s) {', '.join(unknown)} (allowed: {', '.join(KEYS)})"
        )
    if "description" not in data:
        raise DictionaryError(f"{shown}: `description` is missing (one paragraph on the table)")
    description = _text(data["description"], f"{shown}: description")
    grain = data.get("grain")
    grain = None if grain is None else _text(grain, f"{shown}: grain")
    columns = data.get("columns")
    if not isinstance(columns, dict) or not columns:
        raise DictionaryError(
            f"{shown}: `columns` must map every column of the table to its description"
        )
    described: dict[str, str] = {}
    for column, text in columns.items():
        if not isinstance(column, str):
            raise DictionaryError(f"{shown}: columns: {column!r} is not a column name")
        described[column] = _text(text, f"{shown}: columns.{column}")
    return TableDoc(
        name=path.stem,
        path=path,
        description=description,
        grain=grain or _sql_grain(path.with_suffix(".sql")),
        columns=described,
    )


def load_all(marts_dir: Path | None = None) -> dict[str, TableDoc]:
    """Every dictionary file of the marts folder (default sql/marts), by table name."""
    marts_dir = marts_dir or MARTS_DIR
    docs: dict[str, TableDoc] = {}
    for path in sorted(marts_dir.glob("*.yml")):
        if not path.with_suffix(".sql").is_file():
            raise DictionaryError(
                f"{_show(path)}: no model {_show(path.with_suffix('.sql'))} beside it"
                " (a dictionary file describes the mart of the same name)"
            )
        docs[path.stem] = load(path)
    return docs


def table_columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    """The columns of a table in the connection's default schema, in table order."""
    rows = con.execute(
        "select column_name from duckdb_columns()"
        " where database_name = current_database() and schema_name = current_schema()"
        " and table_name = ? order by column_index",
        [table],
    ).fetchall()
    return [r[0] for r in rows]


def _template(table: str, columns: list[str]) -> str:
    lines = ["description: >-", f"  What one row of {table} is, its grain, metric formulas."]
    lines += ["columns:", *(f"  {c}: what it means, units, formula" for c in columns)]
    return "\n".join("    " + line for line in lines)


def check(doc: TableDoc | None, table: str, columns: list[str], marts_dir: Path) -> TableDoc:
    """The table's doc, or an error saying exactly what to add to which file."""
    path = marts_dir / f"{table}.yml"
    if doc is None:
        raise DictionaryError(
            f"published table {table} has no description: add {_show(path)} beside "
            f"{_show(path.with_suffix('.sql'))}, listing every column in table order:\n"
            + _template(table, columns)
        )
    missing = [c for c in columns if c not in doc.columns]
    if missing:
        raise DictionaryError(
            f"{_show(path)}: column(s) {', '.join(missing)} of published table {table} have no"
            " description: add under `columns:` (in table order) "
            + "; ".join(f"`{c}: <what it means, units, formula>`" for c in missing)
        )
    unknown = [c for c in doc.columns if c not in columns]
    if unknown:
        raise DictionaryError(
            f"{_show(path)}: columns names {', '.join(unknown)}, which table {table} does not"
            f" have: remove or rename (the table's columns: {', '.join(columns)})"
        )
    return doc


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def apply_comments(
    con: duckdb.DuckDBPyConnection, tables: list[str], marts_dir: Path | None = None
) -> None:
    """COMMENT ON every published table and column from its dictionary file (else fail)."""
    marts_dir = marts_dir or MARTS_DIR
    docs = load_all(marts_dir)
    for table in tables:
        columns = table_columns(con, table)
        doc = check(docs.get(table), table, columns, marts_dir)
        con.execute(f"comment on table {_ident(table)} is {_literal(doc.description)}")
        for column in columns:
            con.execute(
                f"comment on column {_ident(table)}.{_ident(column)}"
                f" is {_literal(doc.columns[column])}"
            )
