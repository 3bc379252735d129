"""The data dictionary: loading sql/marts/*.yml, COMMENT ON, and the rendered page."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from funnel import dictionary, dictionary_page, sqlmodels
from funnel.dictionary import DictionaryError
from funnel.errors import FunnelError
from tests.conftest import CONTRACT_TABLES, REPO

PAGE = REPO / "docs" / "data_dictionary.md"


def _mart(folder: Path, name: str, yml: str | None) -> Path:
    (folder / f"{name}.sql").write_text(f"-- {name}\n-- grain: (day, stage)\nselect 1 as day\n")
    if yml is not None:
        (folder / f"{name}.yml").write_text(yml)
    return folder / f"{name}.yml"


def _table(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("create table daily as select 1 as day, 'won' as \"window\", 0.5 as rate")


GOOD = """\
description: >-
  One row per day and window;
  rate = won / (won + lost).
columns:
  day: The calendar day.
  window: "30d, 90d, 365d or all."
  rate: won / (won + lost), a share in 0..1 (it's a rate).
"""


def test_loader_reads_description_columns_in_order_and_grain_from_the_sql(tmp_path: Path) -> None:
    doc = dictionary.load(_mart(tmp_path, "daily", GOOD))
    assert doc.name == "daily"
    assert doc.description == "One row per day and window; rate = won / (won + lost)."
    assert list(doc.columns) == ["day", "window", "rate"]
    assert doc.columns["rate"] == "won / (won + lost), a share in 0..1 (it's a rate)."
    assert doc.grain == "(day, stage)"


def test_missing_description_names_the_file_and_key(tmp_path: Path) -> None:
    path = _mart(tmp_path, "daily", "columns:\n  day: The day.\n")
    with pytest.raises(DictionaryError, match=r"daily\.yml: `description` is missing"):
        dictionary.load(path)
    path.write_text("description: ' '\ncolumns:\n  day: The day.\n")
    with pytest.raises(DictionaryError, match=r"daily\.yml: description must be a non-empty"):
        dictionary.load(path)


def test_blank_column_description_names_the_column(tmp_path: Path) -> None:
    path = _mart(tmp_path, "daily", "description: A table.\ncolumns:\n  day:\n  rate: x\n")
    with pytest.raises(DictionaryError, match=r"daily\.yml: columns\.day must be a non-empty"):
        dictionary.load(path)


def test_unknown_key_and_bad_yaml_are_named(tmp_path: Path) -> None:
    path = _mart(tmp_path, "daily", "description: A.\ncolumn:\n  day: The day.\n")
    with pytest.raises(DictionaryError, match=r"daily\.yml: unknown key\(s\) column \(allowed"):
        dictionary.load(path)
    path.write_text("description: A.\ncolumns:\n  day: a: b\n")
    with pytest.raises(DictionaryError, match=r"daily\.yml: not valid YAML"):
        dictionary.load(path)


def test_a_dictionary_file_without_its_model_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "orphan.yml").write_text(GOOD)
    with pytest.raises(DictionaryError, match=r"orphan\.yml: no model .*orphan\.sql beside it"):
        dictionary.load_all(tmp_path)


def test_comments_land_on_the_table_and_every_column(tmp_path: Path) -> None:
    _mart(tmp_path, "daily", GOOD)
    con = duckdb.connect()
    _table(con)
    dictionary.apply_comments(con, ["daily"], tmp_path)
    assert con.execute("select comment from duckdb_tables() where table_name = 'daily'").fetchall()[
        0
    ][0] == ("One row per day and window; rate = won / (won + lost).")
    comments = con.execute(
        "select column_name, comment from duckdb_columns()"
        " where table_name = 'daily' order by column_index"
    ).fetchall()
    assert comments == [
        ("day", "The calendar day."),
        ("window", "30d, 90d, 365d or all."),
        ("rate", "won / (won + lost), a share in 0..1 (it's a rate)."),
    ]


def test_a_column_without_description_fails_saying_what_to_add(tmp_path: Path) -> None:
    _mart(tmp_path, "daily", GOOD.replace("  rate: won / (won + lost), a share", "  # rate"))
    con = duckdb.connect()
    _table(con)
    with pytest.raises(FunnelError) as err:
        dictionary.apply_comments(con, ["daily"], tmp_path)
    message = str(err.value)
    assert "daily.yml: column(s) rate of published table daily have no description" in message
    assert "`rate: <what it means, units, formula>`" in message


def test_an_unknown_column_fails_naming_it_and_the_tables_columns(tmp_path: Path) -> None:
    _mart(tmp_path, "daily", GOOD + "  stale: A column the table lost.\n")
    con = duckdb.connect()
    _table(con)
    with pytest.raises(DictionaryError) as err:
        dictionary.apply_comments(con, ["daily"], tmp_path)
    assert (
        "daily.yml: columns names stale, which table daily does not have: remove or rename"
        " (the table's columns: day, window, rate)"
    ) in str(err.value)


def test_a_table_without_a_dictionary_file_fails_with_a_template(tmp_path: Path) -> None:
    _mart(tmp_path, "daily", None)
    con = duckdb.connect()
    _table(con)
    with pytest.raises(DictionaryError) as err:
        dictionary.apply_comments(con, ["daily"], tmp_path)
    message = str(err.value)
    assert message.startswith("published table daily has no description: add ")
    assert "daily.yml beside " in message and "daily.sql" in message
    template = message.split("\n", 1)[1]
    lines = [line.strip() for line in template.splitlines()]
    assert lines[0] == "description: >-"
    assert lines[-3:] == [f"{c}: what it means, units, formula" for c in ("day", "window", "rate")]


def test_every_mart_has_a_dictionary_file_and_nothing_else_does() -> None:
    marts = {m.name for m in sqlmodels.discover() if m.is_mart}
    docs = dictionary.load_all()
    missing = sorted(marts - set(docs))
    assert not missing, (
        "add "
        + ", ".join(f"sql/marts/{m}.yml" for m in missing)
        + (" (description, columns: every column in table order; see funnel/dictionary.py)")
    )
    assert set(docs) == marts
    assert set(CONTRACT_TABLES) <= marts
    for doc in docs.values():
        assert doc.grain, f"{doc.path}: no grain (add `grain:` or a `-- grain:` header)"


def _page_types(page: str) -> dict[str, dict[str, str]]:
    """The column types the committed page shows (they come from the sample warehouse, which
    tests/integration/test_data_dictionary.py compares)."""
    types: dict[str, dict[str, str]] = {}
    for section in page.split("\n### ")[1:]:
        table = section.split("\n", 1)[0]
        for line in section.splitlines():
            if line.startswith("| `"):
                cells = line.split(" | ")
                types.setdefault(table, {})[cells[0].strip("| `")] = cells[1]
    return types


def test_the_committed_page_is_the_rendered_one_and_the_readme_links_it() -> None:
    page = PAGE.read_text(encoding="utf-8")
    assert page == dictionary_page.render(dictionary.load_all(), _page_types(page)), (
        "docs/data_dictionary.md is out of date: run `make run`, then `.venv/bin/funnel docs`"
        " and commit it"
    )
    assert "](docs/data_dictionary.md)" in (REPO / "README.md").read_text(encoding="utf-8")


def test_every_table_answers_a_question() -> None:
    placed = [t for _, tables in dictionary_page.QUESTIONS for t in tables]
    assert sorted(placed) == sorted(dictionary.load_all()), (
        "place each published table under one question in funnel/dictionary_page.py QUESTIONS"
    )
    assert len(placed) == len(set(placed))


def test_page_has_a_section_with_a_typed_column_table_per_table() -> None:
    page = PAGE.read_text(encoding="utf-8")
    docs = dictionary.load_all()
    for name, doc in docs.items():
        section = page.split(f"\n### {name}\n", 1)[1].split("\n### ", 1)[0].split("\n## ")[0]
        assert doc.description in section
        assert f"Grain: {doc.grain}" in section
        rows = [line for line in section.splitlines() if line.startswith("| `")]
        assert [r.split("`")[1] for r in rows] == list(doc.columns)
        assert all(r.split(" | ")[1] for r in rows), f"{name}: a column without its type"
    assert "| `win_rate` | DOUBLE | win_rate = won / (won + lost)" in page
    assert "## How is the funnel doing?" in page
