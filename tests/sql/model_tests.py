"""One SQL model at a time, from fixed input rows (the shape of sqlmesh's tests/*.yaml).

A test file under tests/sql/models/ names one model, gives rows for its direct inputs (the
models and pipeline tables its SQL reads) and the rows it must return:

    model: lead_qualification
    vars: {as_of: 2024-03-31}          # optional; as_of defaults to 2024-03-31
    inputs:
      stg_leads:
        - {lead_id: L1, budget: 20000, authority: Decision Maker}
      stg_qualification_rules:
        - {budget_min: 10000, ...}
    expect:                            # only the columns named here are compared
      - {lead_id: L1, status: qualified}
    ordered: false                     # optional; true compares in order

Only that model runs: each input is created empty with the schema the pipeline gives it (the
pipeline's own tables from their DDL; an upstream model's columns as the real models produce
them, read once per session from an empty build) and filled with the given rows (columns left
out are NULL). Inputs the file leaves out stay empty. Any other variable the model reads
(`getvariable('name')`) can be set under `vars` too.

Every expected row names the same columns; `expect: []` says the model returns no rows. A
misspelt key of a test (say `expected:`) is an error, not a test that checks nothing. On a
mismatch the failure lists the expected rows that are missing and the rows that were not
expected, one a line.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import duckdb
import yaml

from funnel import sqlmodels
from tests.sql.conftest import AS_OF, create_inputs

MODEL_TESTS = Path(__file__).with_name("models")


@dataclass(frozen=True)
class ModelTest:
    name: str
    path: Path
    model: str
    inputs: Mapping[str, list[dict[str, Any]]]
    expect: list[dict[str, Any]]
    variables: Mapping[str, Any]
    ordered: bool


def load_tests(folder: Path = MODEL_TESTS) -> list[ModelTest]:
    """Every test of every file; a file holds one test (a mapping) or several (name: test)."""
    tests = []
    for path in sorted(folder.glob("*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        cases = {path.stem: doc} if "model" in doc else doc
        for name, case in cases.items():
            _check_case(path, name, case)
            tests.append(
                ModelTest(
                    name=f"{path.stem}::{name}" if name != path.stem else name,
                    path=path,
                    model=case["model"],
                    inputs={k: list(v or []) for k, v in (case.get("inputs") or {}).items()},
                    expect=list(case.get("expect") or []),
                    variables={"as_of": AS_OF, **(case.get("vars") or {})},
                    ordered=bool(case.get("ordered", False)),
                )
            )
    return tests


#: The keys a test may have; `model` and `expect` are required.
CASE_KEYS: frozenset[str] = frozenset({"model", "vars", "inputs", "expect", "ordered"})


def _check_case(path: Path, name: str, case: Any) -> None:
    """A test with a misspelt key or ragged expected rows fails loudly instead of passing."""
    where = f"{path}: test {name!r}"
    assert isinstance(case, dict), f"{where} is not a mapping"
    unknown = sorted(set(case) - CASE_KEYS)
    assert not unknown, f"{where}: unknown keys {unknown} (allowed: {sorted(CASE_KEYS)})"
    for key in ("model", "expect"):
        assert key in case, f"{where}: no {key!r} (write `expect: []` for no rows)"
    rows = case["expect"] or []
    columns = [sorted(row) for row in rows]
    ragged = [i for i, c in enumerate(columns) if c != columns[0]]
    assert not ragged, (
        f"{where}: expected row {ragged[0] + 1} names {columns[ragged[0]]}, the first row "
        f"{columns[0]}; every expected row names the same columns"
    )


@cache
def _models() -> dict[str, sqlmodels.Model]:
    return {m.name: m for m in sqlmodels.discover()}


@cache
def model_columns() -> dict[str, list[tuple[str, str]]]:
    """Every model's (column, type) as the real models produce them over empty inputs."""
    con = duckdb.connect()
    try:
        create_inputs(con)
        models = list(_models().values())
        for model in models:  # tables, so each one's schema can be read back
            con.execute(f"create table {model.name} as\n{sqlmodels._body(model.sql)}")
        return {
            m.name: [(r[0], r[1]) for r in con.execute(f"describe {m.name}").fetchall()]
            for m in models
        }
    finally:
        con.close()


def run_model_test(test: ModelTest) -> list[dict[str, Any]]:
    """The model's rows over the test's inputs, as dicts of the compared columns."""
    models = _models()
    assert test.model in models, f"{test.path}: no model {test.model!r} under sql/"
    model = models[test.model]
    unknown = set(test.inputs) - set(model.depends_on) - _pipeline_tables()
    assert not unknown, f"{test.path}: {test.model} does not read {sorted(unknown)}"
    con = duckdb.connect()
    try:
        create_inputs(con, as_of=test.variables["as_of"], stage_probability={}, qualification={})
        for name, value in test.variables.items():
            con.execute(f"set variable {name} = ?", [value])
        for upstream in sorted(model.depends_on):
            columns = ", ".join(f'"{c}" {t}' for c, t in model_columns()[upstream])
            con.execute(f"create table {upstream} ({columns})")
        for table, rows in test.inputs.items():
            _insert(con, table, rows, test.path)
        cursor = con.execute(sqlmodels._body(model.sql))
        names = [d[0] for d in cursor.description or []]
        got = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    finally:
        con.close()
    wanted = list(dict.fromkeys(c for row in test.expect for c in row)) or names
    missing = [c for c in wanted if c not in names]
    assert not missing, f"{test.path}: {test.model} has no column {missing} (it has {names})"
    return [{c: _comparable(row[c]) for c in wanted} for row in got]


def expected_rows(test: ModelTest) -> list[dict[str, Any]]:
    return [{c: _comparable(v) for c, v in row.items()} for row in test.expect]


def rows_diff(
    got: list[dict[str, Any]], expected: list[dict[str, Any]], ordered: bool
) -> str | None:
    """None when the rows match (as a multiset, or in order); else what differs, a row a line."""
    if ordered:
        if len(got) == len(expected) and all(map(_same_row, got, expected)):
            return None
        first = next(
            (i for i, (g, e) in enumerate(zip(got, expected, strict=False)) if not _same_row(g, e)),
            min(len(got), len(expected)),
        )
        return (
            f"rows differ from position {first + 1} on ({len(got)} returned, "
            f"{len(expected)} expected)\n returned:\n{_lines(got[first:])}"
            f"\n expected:\n{_lines(expected[first:])}"
        )
    unmatched = list(got)
    missing = []
    for row in expected:
        match = next((i for i, g in enumerate(unmatched) if _same_row(g, row)), None)
        if match is None:
            missing.append(row)
        else:
            del unmatched[match]
    if not missing and not unmatched:
        return None
    closest = [
        f" missing row {i} against the nearest returned row: {_differences(row, unmatched)}"
        for i, row in enumerate(missing, 1)
        if unmatched
    ]
    return (
        f"{len(missing)} expected rows missing, {len(unmatched)} rows not expected "
        f"({len(got)} returned, {len(expected)} expected)"
        f"\n missing:\n{_lines(missing)}\n not expected:\n{_lines(unmatched)}"
        + "".join(f"\n{line}" for line in closest)
    )


def _differences(expected: dict[str, Any], candidates: list[dict[str, Any]]) -> str:
    """The columns in which the most similar returned row differs from an expected row."""
    best = max(candidates, key=lambda g: sum(_same_value(g.get(c), v) for c, v in expected.items()))
    differs = ", ".join(
        f"{c}: {best.get(c)!r} returned, {v!r} expected"
        for c, v in expected.items()
        if not _same_value(best.get(c), v)
    )
    return differs


def _same_row(got: dict[str, Any], expected: dict[str, Any]) -> bool:
    return got.keys() == expected.keys() and all(_same_value(got[c], expected[c]) for c in expected)


def _same_value(got: Any, expected: Any) -> bool:
    """Equal, with true never equal to 1 and a date never equal to a timestamp."""
    if isinstance(got, bool) or isinstance(expected, bool):
        return type(got) is type(expected) and got == expected
    if isinstance(got, list) and isinstance(expected, list):
        return len(got) == len(expected) and all(map(_same_value, got, expected))
    if isinstance(got, date) or isinstance(expected, date):
        return type(got) is type(expected) and got == expected
    return bool(got == expected)


def _lines(rows: list[dict[str, Any]]) -> str:
    return "\n".join(f"   {i}. {row}" for i, row in enumerate(rows, 1)) or "   (none)"


@cache
def _pipeline_tables() -> frozenset[str]:
    """Tables the pipeline provides (raw_*, log_*, cfg_*, state_*), not models."""
    con = duckdb.connect()
    try:
        create_inputs(con)
        return frozenset(r[0] for r in con.execute("show tables").fetchall())
    finally:
        con.close()


def _insert(
    con: duckdb.DuckDBPyConnection, table: str, rows: list[dict[str, Any]], path: Path
) -> None:
    types = dict(con.execute(f"select column_name, column_type from (describe {table})").fetchall())
    for row in rows:
        unknown = [c for c in row if c not in types]
        assert not unknown, f"{path}: {table} has no column {unknown} (it has {list(types)})"
        cols = ", ".join(f'"{c}"' for c in row)
        marks = ", ".join(f"?::{types[c]}" for c in row)
        con.execute(f"insert into {table} ({cols}) values ({marks})", list(row.values()))


def _comparable(value: Any) -> Any:
    """Values compared as written in YAML: numbers rounded to 6 places, decimals as floats."""
    if isinstance(value, Decimal):
        value = float(value)
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, 6)
    if isinstance(value, tuple):
        return [_comparable(v) for v in value]
    if isinstance(value, list):
        return [_comparable(v) for v in value]
    return value
