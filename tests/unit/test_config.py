"""The config file: every mistake is a ConfigError naming the file and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from funnel.config import load_config
from funnel.errors import ConfigError

GOOD = """
[warehouse]
path = "wh/funnel.duckdb"
timezone = "Europe/Berlin"

[[sources]]
name = "deals"
entity = "opportunities"
path = "exports/deals*.csv"
delimiter = ";"
encoding = "latin-1"
date_format = "%d.%m.%Y"
[sources.columns]
opportunity_id = "Deal ID"
[sources.constants]
currency = "EUR"
[sources.stages]
"Closed Won" = "won"
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "funnel.toml"
    path.write_text(text)
    return path


def test_a_good_config_resolves_paths_against_its_folder(tmp_path: Path) -> None:
    cfg = load_config(_write(tmp_path, GOOD))
    source = cfg.sources[0]
    assert cfg.warehouse_path == tmp_path / "wh" / "funnel.duckdb"
    assert cfg.state_path == tmp_path / "wh" / "funnel.state.duckdb"
    assert source.delimiter == ";"
    assert source.encoding == "latin-1"
    assert source.date_formats == ["%d.%m.%Y"]
    assert source.constants == {"currency": "EUR"}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (('delimiter = ";"', 'delimter = ";"'), "sources[deals].delimter: unknown key"),
        (('opportunity_id = "Deal ID"', 'deal_no = "Deal ID"'), "columns.deal_no: not a field"),
        (('"Closed Won" = "won"', '"Closed Won" = "victory"'), "not a canonical stage"),
        (('entity = "opportunities"', 'entity = "deals"'), "sources[deals].entity"),
        (("Europe/Berlin", "Mars/Olympus"), "warehouse.timezone: unknown time zone"),
        (("latin-1", "ebcdic"), "sources[deals].encoding"),
    ],
)
def test_mistakes_name_the_key(tmp_path: Path, change: tuple[str, str], message: str) -> None:
    path = _write(tmp_path, GOOD.replace(*change))
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert str(path) in str(err.value)
    assert message in str(err.value)


def test_duplicate_source_names_and_missing_files(tmp_path: Path) -> None:
    twice = GOOD + GOOD[GOOD.index("[[sources]]") :]
    with pytest.raises(ConfigError, match="source name 'deals' is used twice"):
        load_config(_write(tmp_path, twice))
    with pytest.raises(ConfigError, match="config file not found"):
        load_config(tmp_path / "nope.toml")
    cfg = load_config(_write(tmp_path, GOOD))
    with pytest.raises(ConfigError, match=r"sources\[deals\].path: no file matches"):
        cfg.source_files(cfg.sources[0])


def test_invalid_toml_names_the_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"not valid TOML.*line 2"):
        load_config(_write(tmp_path, "[warehouse]\npath = \n"))


def test_calendar_defaults_and_settings(tmp_path: Path) -> None:
    assert load_config(_write(tmp_path, GOOD)).calendar.fiscal_year_start_month == 1
    text = GOOD + '\n[calendar]\nfiscal_year_start_month = 4\nweek_start = "Sunday"\n'
    cfg = load_config(_write(tmp_path, text))
    assert (cfg.calendar.fiscal_year_start_month, cfg.calendar.week_start) == (4, "sunday")


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("fiscal_year_start_month = 13", "calendar.fiscal_year_start_month"),
        ("fiscal_year_start_month = 0", "calendar.fiscal_year_start_month"),
        ('week_start = "someday"', "calendar.week_start: 'someday' is not a day of the week"),
        ("fiscal_start = 4", "calendar.fiscal_start: unknown key"),
    ],
)
def test_calendar_mistakes_name_the_key(tmp_path: Path, setting: str, message: str) -> None:
    path = _write(tmp_path, GOOD + f"\n[calendar]\n{setting}\n")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert message in str(err.value)


def test_stage_categories_keep_defaults_and_name_mistakes(tmp_path: Path) -> None:
    cfg = load_config(_write(tmp_path, GOOD + '\n[forecast.stage_category]\nproposal = "commit"\n'))
    assert cfg.forecast.stage_category["proposal"] == "commit"
    assert cfg.forecast.stage_category["negotiation"] == "commit"  # a default kept
    path = _write(tmp_path, GOOD + '\n[forecast.stage_category]\nproposal = "maybe"\n')
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert "forecast.stage_category: proposal: 'maybe' is not a forecast category" in str(err.value)


def test_response_sla_and_nurture_labels(tmp_path: Path) -> None:
    cfg = load_config(_write(tmp_path, GOOD))
    assert cfg.response.sla_minutes == 60
    assert cfg.qualification.nurture_labels == ["nurture", "nurturing", "recycled"]
    text = GOOD + '\n[response]\nsla_minutes = 5\n[qualification]\nnurture_labels = ["On Ice"]\n'
    cfg = load_config(_write(tmp_path, text))
    assert cfg.response.sla_minutes == 5
    assert cfg.qualification.nurture_labels == ["On Ice"]


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ("[response]\nsla_minutes = 0", "response.sla_minutes"),
        ('[response]\nsla_minutes = "an hour"', "response.sla_minutes"),
        ("[response]\nsla_mins = 60", "response.sla_mins: unknown key"),
        ('[qualification]\nnurture_labels = [" "]', "qualification.nurture_labels"),
        ('[qualification]\nnurture_labels = ["a,b"]', "qualification.nurture_labels"),
    ],
)
def test_response_and_nurture_mistakes_name_the_key(
    tmp_path: Path, section: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config(_write(tmp_path, GOOD + "\n" + section + "\n"))
