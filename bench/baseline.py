"""The floor: the export's CSV files read with DuckDB's read_csv and the same SQL models (sql/),
in one plain DuckDB connection. No Prefect, polars or great-expectations.

Run by bench/run.py in a child process (so its peak memory is its own):
`python bench/baseline.py SPEC.json`. The spec (written by bench/run.py from the config) names
each source's files, column mapping, stage labels and date formats, the DDL of the tables the
staging models read and the config tables. Prints one JSON line: rows read and seconds.

What it does per source, in SQL only: read the file as text, trim, parse timestamps with the
source's formats (`try_strptime`), numbers with `try_cast`, map stage labels, keep the latest row
per id. No quarantine, no checks beyond that: the least work that still feeds the models.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from funnel import snapshots, sqlmodels, warehouse
from funnel.config import load_config


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _field_sql(field: str, kind: str, column: str | None, source: dict[str, Any]) -> str:
    """The SQL expression reading one canonical field from the file's text column."""
    types = {"money": "double", "number": "double", "timestamp": "timestamp", "date": "date"}
    if column is None:
        return f"cast(null as {types.get(kind, 'varchar')}) as {field}"
    text = f"nullif(trim({_quote(column)}), '')"
    if kind in ("money", "number"):
        value = f"try_cast(regexp_replace({text}, '[,$€£ %]', '', 'g') as double)"
        if field == "probability" and source["probability_scale"] == 100:
            value = f"{value} / 100"
        return f"{value} as {field}"
    if kind in ("timestamp", "date"):
        formats = ", ".join(_literal(f) for f in source["date_formats"])
        value = f"try_strptime({text}, [{formats}])"
        return f"cast({value} as {types[kind]}) as {field}"
    if kind == "stage":
        cases = " ".join(
            f"when {_literal(label)} then {_literal(stage)}"
            for label, stage in source["stages"].items()
        )
        return f"case lower({text}) {cases} else null end as {field}"
    if kind == "email":
        return f"lower({text}) as {field}"
    return f"{text} as {field}"


def ecb_sql(source: dict[str, Any]) -> str:
    """SELECT of the ECB's euro reference rates (a column per currency, units per euro) as
    exchange_rates rows: each quote turned around, in euros, and the euro's own rate 1."""
    files = ", ".join(_literal(f) for f in source["files"])
    lineage = (
        f"{_literal(source['name'])} as source_system, filename as source_file,"
        " cast(null as bigint) as source_line, 'baseline' as run_id"
    )
    return (
        f"with wide as (select * from read_csv([{files}], header = true, all_varchar = true,"
        " filename = true)),"
        " long as (unpivot wide on columns(* exclude (Date, filename))"
        " into name currency value quote)"
        " select upper(currency) as currency, cast(Date as date) as rate_date,"
        f" 1 / try_cast(quote as double) as rate, 'EUR' as rate_currency, {lineage}"
        " from long where regexp_full_match(currency, '[A-Za-z]{3}')"
        " and try_cast(quote as double) > 0"
        f" union all select 'EUR', cast(Date as date), 1.0, 'EUR', {lineage} from wide"
    )


def source_sql(source: dict[str, Any]) -> str:
    """SELECT of one source's rows in its raw table's columns."""
    if source.get("layout") == "ecb":
        return ecb_sql(source)
    files = ", ".join(_literal(f) for f in source["files"])
    fields = [
        _field_sql(name, kind, source["columns"].get(name), source)
        for name, kind in source["fields"].items()
    ]
    stage_column = source["columns"].get("stage")
    stage_label = (
        [f"nullif(trim({_quote(stage_column)}), '') as stage_label"]
        if stage_column
        else ["cast(null as varchar) as stage_label"]
    )
    lineage = [
        *(stage_label if source["has_stage"] else []),
        f"{_literal(source['name'])} as source_system",
        "filename as source_file",
        "cast(null as bigint) as source_line",
        "'baseline' as run_id",
    ]
    latest = ""
    if source["id_field"]:
        order = "updated_at desc nulls last" if "updated_at" in source["fields"] else "1"
        latest = (
            f"qualify row_number() over (partition by {source['id_field']} order by {order}) = 1"
        )
    return (
        f"select {', '.join(fields + lineage)}"
        f" from read_csv([{files}], header = true, all_varchar = true,"
        f" delim = {_literal(source['delimiter'])}, quote = '\"', escape = '\"',"
        f" encoding = {_literal(source['encoding'])}, ignore_errors = true, filename = true)"
        f" {latest}"
    )


def run(spec: dict[str, Any]) -> dict[str, Any]:
    """Build the baseline warehouse file; return rows read and the seconds it took."""
    started = time.perf_counter()
    out = Path(spec["out"])
    out.unlink(missing_ok=True)
    # DuckDB's defaults (a plain connection), unless the benchmark runs under a memory cap
    limit = spec.get("memory_limit")
    con = duckdb.connect(str(out), config={"memory_limit": limit} if limit else {})
    try:
        con.execute("set variable as_of = cast(? as date)", [spec["as_of"]])
        con.execute("set variable run_id = 'baseline'")
        for ddl in spec["ddl"]:
            con.execute(ddl)
        for source in spec["sources"]:
            cols = ", ".join(source["table_columns"])
            con.execute(
                f"insert into {source['table']} ({cols}) select {cols} from ({source_sql(source)})"
            )
        # the config tables the models read, as the run writes them
        warehouse.create_config_tables(con, load_config(Path(spec["config"])))
        # the run's own history step, as the nightly load does it
        snapshots.record_load(con, "baseline", date.fromisoformat(str(spec["as_of"])))
        loaded = time.perf_counter()
        sqlmodels.run_models(con)
        modelled = time.perf_counter()
        (rows,) = con.execute(
            "select " + " + ".join(f"(select count(*) from {s['table']})" for s in spec["sources"])
        ).fetchone() or (0,)
        con.execute("checkpoint")
    finally:
        con.close()
    done = time.perf_counter()
    return {
        "rows": rows,
        "seconds": done - started,
        "steps": {
            "load": loaded - started,
            "models": modelled - loaded,
            "publish": done - modelled,
        },
    }


if __name__ == "__main__":
    print(json.dumps(run(json.loads(Path(sys.argv[1]).read_text(encoding="utf-8")))))
