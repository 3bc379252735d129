"""The SQL runner: discovery and order from the SQL itself, temp views vs tables, errors, audits."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from funnel import sqlmodels
from funnel.sqlmodels import Model, ModelError
from tests.conftest import PUBLISHED_TABLES

MARTS = set(PUBLISHED_TABLES)


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, sql in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(sql)
    return root


def test_the_repo_models_come_in_layer_and_dependency_order() -> None:
    models = sqlmodels.discover()
    names = [m.name for m in models]
    assert {m.name for m in models if m.layer == "marts"} == MARTS
    layers = [sqlmodels.LAYERS.index(m.layer) for m in models]
    assert layers == sorted(layers)
    position = {name: i for i, name in enumerate(names)}
    for m in models:
        assert all(position[d] < position[m.name] for d in m.depends_on), m.name
    by_name = {m.name: m for m in models}
    assert by_name["stg_leads"].depends_on == frozenset()
    assert "stage_transitions" in by_name["stage_conversion"].depends_on
    assert by_name["stage_transitions"].depends_on == {"int_stage_entries__sequenced"}


def test_dependencies_ignore_comments_strings_and_own_ctes(tmp_path: Path) -> None:
    sql_dir = write(
        tmp_path,
        {
            "staging/stg_a.sql": "-- reads stg_b, but only in this comment\nselect 1 as x",
            "staging/stg_b.sql": "select x from stg_a /* not int_c */",
            "intermediate/int_c.sql": (
                "with stg_b as (select 2 as x)\nselect * from stg_b, STG_A where 'stg_b' <> 'int_d'"
            ),
            "marts/m.sql": 'select * from "int_c"',
        },
    )
    models = sqlmodels.discover(sql_dir)
    assert [(m.name, m.layer, sorted(m.depends_on)) for m in models] == [
        ("stg_a", "staging", []),
        ("stg_b", "staging", ["stg_a"]),
        ("int_c", "intermediate", ["stg_a"]),
        ("m", "marts", ["int_c"]),
    ]
    assert models[0] == Model(
        "stg_a", "staging", sql_dir / "staging/stg_a.sql", models[0].sql, frozenset()
    )


def test_a_cycle_names_the_files(tmp_path: Path) -> None:
    sql_dir = write(
        tmp_path,
        {
            "staging/stg_a.sql": "select * from stg_b",
            "staging/stg_b.sql": "select * from stg_a",
            "staging/stg_c.sql": "select 1",
        },
    )
    with pytest.raises(ValueError, match=r"cycle.*stg_a\.sql.*stg_b\.sql") as err:
        sqlmodels.discover(sql_dir)
    assert "stg_c" not in str(err.value)


def test_an_unknown_layer_names_the_file(tmp_path: Path) -> None:
    sql_dir = write(tmp_path, {"staging/stg_a.sql": "select 1", "reports/r.sql": "select 1"})
    with pytest.raises(ValueError, match=r"reports/r\.sql"):
        sqlmodels.discover(sql_dir)


def test_a_model_reading_a_later_layer_is_refused(tmp_path: Path) -> None:
    sql_dir = write(tmp_path, {"staging/stg_a.sql": "select * from m", "marts/m.sql": "select 1"})
    with pytest.raises(ValueError, match=r"stg_a\.sql.*m \(marts\)"):
        sqlmodels.discover(sql_dir)


def test_a_failing_model_raises_model_error_naming_file_and_duckdb_message(
    tmp_path: Path,
) -> None:
    sql_dir = write(
        tmp_path,
        {
            "staging/stg_ok.sql": "select 1 as x;\n",
            "marts/broken.sql": "select * from stg_ok join no_such_table using (x)",
        },
    )
    con = duckdb.connect()
    with pytest.raises(ModelError) as err:
        sqlmodels.run_models(con, sqlmodels.discover(sql_dir))
    message = str(err.value)
    assert str(sql_dir / "marts/broken.sql") in message
    assert "no_such_table" in message
    assert err.value.path == sql_dir / "marts/broken.sql"
    assert err.value.exit_code == 1


def test_staging_are_views_shared_intermediates_temp_tables_and_marts_tables(
    con: duckdb.DuckDBPyConnection, build: Callable[[], list[str]]
) -> None:
    marts = build()
    assert set(marts) == MARTS
    views = dict(con.execute("select view_name, temporary from duckdb_views()").fetchall())
    assert views["stg_leads"] is True
    assert views["int_stage_entries__sequenced"] is True  # read by stage_transitions only
    assert not any(name in MARTS for name in views)
    tables = dict(con.execute("select table_name, temporary from duckdb_tables()").fetchall())
    assert {name: tables[name] for name in MARTS} == dict.fromkeys(MARTS, False)
    # read by two or more models: computed once
    assert tables["int_snapshots__record_states"] is True
    assert tables["int_stages__ranked"] is True
    assert not any(name.startswith("stg_") for name in tables)


def test_run_audits_counts_offending_rows(tmp_path: Path, con: duckdb.DuckDBPyConnection) -> None:
    audits = write(
        tmp_path,
        {"passes.sql": "select 1 where false", "fails.sql": "select * from range(3);"},
    )
    assert sqlmodels.run_audits(con, audits) == {"fails": 3, "passes": 0}
    assert sqlmodels.run_audits(con, tmp_path / "absent") == {}
    write(tmp_path, {"broken.sql": "select * from nowhere"})
    with pytest.raises(ModelError, match=r"broken\.sql.*nowhere"):
        sqlmodels.run_audits(con, audits)


def test_the_repo_audits_pass_on_empty_inputs(
    con: duckdb.DuckDBPyConnection, build: Callable[[], list[str]]
) -> None:
    build()
    counts = sqlmodels.run_audits(con)
    assert len(counts) >= 10
    assert set(counts.values()) == {0}
