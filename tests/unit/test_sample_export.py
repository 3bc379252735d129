"""funnel.sample: determinism, counts, dirt as promised, referential and stage sanity."""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from datetime import date, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from funnel.config import SourceConfig, load_config
from funnel.sample import (
    ACTIVITIES_FILE,
    COLUMNS,
    DATE_COLUMNS,
    DIRT_RATES,
    FILE_DIRT_KINDS,
    FILES,
    HISTORY_FILE,
    HYGIENE_KINDS,
    LEAD_STATUSES,
    LEADS_FILE,
    MANIFEST_FILE,
    OPPORTUNITIES_FILE,
    OPPORTUNITY_STAGES,
    RATES_FILE,
    REJECT_KINDS,
    UNKNOWN_STAGE_LABELS,
    generate,
)

ROOT = Path(__file__).resolve().parents[2]
END = date(2026, 10, 31)
FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y")
EMAIL = r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$"
ID_COLUMN = {
    LEADS_FILE: "Lead ID",
    OPPORTUNITIES_FILE: "Opportunity ID",
    ACTIVITIES_FILE: "Activity ID",
}
REQUIRED = {
    LEADS_FILE: ("Lead ID", "Created Date"),
    OPPORTUNITIES_FILE: ("Opportunity ID", "Stage"),
    HISTORY_FILE: ("Opportunity ID", "Stage", "Changed At"),
    ACTIVITIES_FILE: ("Activity ID", "Occurred At"),
}


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("gen")
    generate(d, leads=20_000, seed=7)
    return d


def read(d: Path, file: str) -> pl.DataFrame:
    return pl.read_csv(d / file, infer_schema=False)


def parsed(col: str) -> pl.Expr:
    """A date or timestamp column in any of the export's formats."""
    c = pl.col(col).str.strip_chars()
    return pl.coalesce([c.str.to_datetime(f, strict=False) for f in FORMATS]).alias(col)


def stripped(col: str) -> pl.Expr:
    c = pl.col(col).str.strip_chars()
    return pl.when(c == "").then(None).otherwise(c).alias(col)


def digest(d: Path) -> dict[str, str]:
    files = (*FILES, RATES_FILE, MANIFEST_FILE)
    return {f: hashlib.sha256((d / f).read_bytes()).hexdigest() for f in files}


def detect(d: Path) -> dict[str, dict[str, int]]:
    """Count every dirt kind in the written files, independently of the generator."""
    found: dict[str, dict[str, int]] = {}
    for file in FILES:
        df = read(d, file)
        dates = DATE_COLUMNS[file]
        n: dict[str, int] = {}

        def rows(expr: pl.Expr, df: pl.DataFrame = df) -> int:
            return int(df.select(expr.fill_null(False).sum()).item())

        n["whitespace"] = rows(
            pl.any_horizontal([pl.col(c) != pl.col(c).str.strip_chars() for c in df.columns])
        )
        n["mixed_date_format"] = rows(
            pl.any_horizontal([pl.col(c).str.contains(r"^\s*\d{2}/\d{2}/\d{4}") for c in dates])
        )
        n["future_date"] = rows(pl.any_horizontal([parsed(c).dt.year() == 2099 for c in dates]))
        unique = df.unique(maintain_order=True)
        n["exact_duplicate"] = df.height - unique.height
        if file in ID_COLUMN and file != ACTIVITIES_FILE:
            ids = unique.select(stripped(ID_COLUMN[file])).to_series().drop_nulls()
            n["duplicate_id"] = ids.len() - ids.n_unique()
        n["blank_required"] = rows(
            pl.any_horizontal([stripped(c).is_null() for c in REQUIRED[file]])
        )
        if file == LEADS_FILE:
            email = pl.col("Email").str.strip_chars()
            n["malformed_email"] = rows(~email.str.to_lowercase().str.contains(EMAIL))
            n["mixed_case_email"] = rows(email != email.str.to_lowercase())
            phone = pl.col("Phone").str.strip_chars()
            n["malformed_phone"] = rows(
                phone.str.contains("[A-Za-z]") | (phone.str.count_matches(r"\d") < 7)
            )
        if file in (OPPORTUNITIES_FILE, HISTORY_FILE):
            stage = stripped("Stage")
            n["unknown_stage"] = rows(stage.is_not_null() & ~stage.is_in(list(OPPORTUNITY_STAGES)))
        if file == OPPORTUNITIES_FILE:
            n["close_before_created"] = rows(parsed("Close Date") < parsed("Created Date"))
        money = {LEADS_FILE: "Budget", OPPORTUNITIES_FILE: "Amount", HISTORY_FILE: "Amount"}
        if file in money:
            n["negative_amount"] = rows(pl.col(money[file]).str.strip_chars().str.starts_with("-"))
        found[file] = n
    return found


def test_same_seed_same_bytes(tmp_path: Path) -> None:
    a = generate(tmp_path / "a", leads=3000, seed=11)
    b = generate(tmp_path / "b", leads=3000, seed=11)
    assert digest(tmp_path / "a") == digest(tmp_path / "b")
    assert a.rows == b.rows and a.dirt == b.dirt


def test_different_seed_different_bytes(tmp_path: Path) -> None:
    generate(tmp_path / "a", leads=3000, seed=11)
    generate(tmp_path / "b", leads=3000, seed=12)
    one, two = digest(tmp_path / "a"), digest(tmp_path / "b")
    assert all(one[f] != two[f] for f in FILES)


def test_bundled_sample_is_the_seed_42_output(tmp_path: Path) -> None:
    summary = generate(tmp_path, leads=2000, seed=42)
    assert digest(tmp_path) == digest(ROOT / "data" / "sample")
    assert summary.rows[LEADS_FILE] > 2000


def test_row_counts_match_summary_and_manifest(tmp_path: Path) -> None:
    summary = generate(tmp_path, leads=5000, seed=3)
    manifest = json.loads((tmp_path / MANIFEST_FILE).read_text())
    assert manifest == summary.manifest()
    assert str(summary).startswith(f"leads.csv {summary.rows[LEADS_FILE]:,} rows (")
    assert manifest["generator"] == {
        "leads": 5000,
        "seed": 3,
        "end_date": "2026-10-31",
        "chunk_leads": 500_000,
    }
    for file in FILES:
        data = (tmp_path / file).read_bytes()
        assert b"\r" not in data
        data.decode("utf-8")
        lines = data.split(b"\n")
        assert lines[-1] == b""
        assert lines[0].decode().split(",") == list(COLUMNS[file])
        assert len(lines) - 2 == summary.rows[file] == manifest["rows"][file]
        assert read(tmp_path, file).height == summary.rows[file]
        assert manifest["dirt"][file] == summary.dirt[file]
        assert manifest["rejected_rows"][file] == sum(
            c for k, c in summary.dirt[file].items() if k in REJECT_KINDS
        )
    # Roughly 0.42 opportunities, 3 history entries and 4 activities per lead.
    assert 0.38 < summary.rows[OPPORTUNITIES_FILE] / 5000 < 0.48
    assert 2.5 < summary.rows[HISTORY_FILE] / summary.rows[OPPORTUNITIES_FILE] < 4.0


def test_manifest_keys_are_sorted(out: Path) -> None:
    text = (out / MANIFEST_FILE).read_text()
    assert text == json.dumps(json.loads(text), indent=2, sort_keys=True) + "\n"


def test_dirt_in_the_files_is_what_the_manifest_says(out: Path) -> None:
    manifest = json.loads((out / MANIFEST_FILE).read_text())
    found = detect(out)
    for file in FILES:
        assert set(manifest["dirt"][file]) == set(FILE_DIRT_KINDS[file])
        assert found[file] == manifest["dirt"][file], file


def test_each_dirt_kind_in_about_its_share(out: Path) -> None:
    manifest = json.loads((out / MANIFEST_FILE).read_text())
    for file in FILES:
        rows = manifest["rows"][file]
        dirt = manifest["dirt"][file]
        for kind, rate in DIRT_RATES[file].items():
            assert 0.7 * rate < dirt[kind] / rows < 1.3 * rate, (file, kind, dirt[kind])
        total = sum(dirt.values()) / rows
        assert 0.01 <= total <= 0.021, (file, total)
        rejected = sum(dirt[k] for k in REJECT_KINDS if k in dirt)
        hygiene = sum(dirt[k] for k in HYGIENE_KINDS if k in dirt)
        assert rejected > 0 and hygiene > 0
    # The history's unknown labels are the last entries of the opportunities that have one.
    assert (
        manifest["dirt"][HISTORY_FILE]["unknown_stage"]
        == (manifest["dirt"][OPPORTUNITIES_FILE]["unknown_stage"])
    )


def test_small_sample_has_every_dirt_kind(tmp_path: Path) -> None:
    summary = generate(tmp_path, leads=2000, seed=42)
    found = detect(tmp_path)
    for file in FILES:
        assert all(c >= 1 for c in summary.dirt[file].values()), (file, summary.dirt[file])
        assert found[file] == summary.dirt[file], file


def test_references_point_at_existing_ids(out: Path) -> None:
    lead_ids = set(read(out, LEADS_FILE).select(stripped("Lead ID")).to_series().drop_nulls())
    opps = read(out, OPPORTUNITIES_FILE)
    opp_ids = set(opps.select(stripped("Opportunity ID")).to_series().drop_nulls())
    hist = read(out, HISTORY_FILE).select(stripped("Opportunity ID")).to_series()
    acts = read(out, ACTIVITIES_FILE).select(stripped("Opportunity ID"), stripped("Lead ID"))
    opp_leads = set(opps.select(stripped("Lead ID")).to_series().drop_nulls())

    assert hist.null_count() == 0 and set(hist) <= opp_ids
    assert opp_leads <= lead_ids
    assert set(acts["Opportunity ID"].drop_nulls()) <= opp_ids
    assert set(acts["Lead ID"].drop_nulls()) <= lead_ids
    one_of = acts["Opportunity ID"].is_null() ^ acts["Lead ID"].is_null()
    assert one_of.all()
    # Every opportunity has history and 2-4 activities; standalone deals are about 5 %.
    assert set(hist) == opp_ids
    per_opp = acts["Opportunity ID"].drop_nulls().value_counts()["count"].to_list()
    assert min(per_opp) >= 2 and max(per_opp) <= 4 + 2  # exact duplicates may add one or two
    standalone = opps.filter(stripped("Lead ID").is_null()).height / opps.height
    assert 0.03 < standalone < 0.07


def latest_opportunities(out: Path) -> pl.DataFrame:
    """One row per opportunity id: the one modified last (how the pipeline deduplicates)."""
    return (
        read(out, OPPORTUNITIES_FILE)
        .unique(maintain_order=True)
        .with_columns(
            id=stripped("Opportunity ID"),
            stage=stripped("Stage"),
            lead=stripped("Lead ID"),
            created=parsed("Created Date"),
            closed=parsed("Close Date"),
            modified=parsed("Last Modified Date"),
        )
        .filter(pl.col("id").is_not_null())
        .sort("id", "modified")
        .group_by("id", maintain_order=True)
        .last()
    )


def test_current_stage_is_the_last_history_entry(out: Path) -> None:
    opps = latest_opportunities(out).filter(pl.col("stage").is_not_null())
    hist = (
        read(out, HISTORY_FILE)
        .with_columns(
            id=stripped("Opportunity ID"), stage=stripped("Stage"), at=parsed("Changed At")
        )
        .filter(pl.col("at").is_not_null())
    )
    last = hist.sort("id", "at").group_by("id", maintain_order=True).last()
    first = hist.sort("id", "at").group_by("id", maintain_order=True).first()
    joined = opps.join(last, on="id", suffix="_h").join(first, on="id", suffix="_f")
    assert joined.height == opps.height
    assert (joined["stage"] == joined["stage_h"]).all()
    # Created Date = the first entry (older copies and dirt rows aside).
    assert (joined["created"] == joined["at_f"]).mean() > 0.99  # type: ignore[operator]


def test_funnel_shape_is_realistic(out: Path) -> None:
    leads = read(out, LEADS_FILE).unique(subset=["Lead ID"], keep="last")
    converted = leads["Converted Date"].is_not_null().mean()
    assert 0.35 < converted < 0.45  # type: ignore[operator]
    opps = latest_opportunities(out)
    closed = opps.filter(pl.col("stage").is_in(["Closed Won", "Onboarding", "Closed Lost"]))
    won = closed.filter(pl.col("stage") != "Closed Lost").height / closed.height
    assert 0.25 <= won <= 0.35
    # Converted Date = the opportunity's Created Date.
    pairs = opps.filter(pl.col("lead").is_not_null()).join(
        leads.with_columns(lead=stripped("Lead ID"), conv=parsed("Converted Date")), on="lead"
    )
    assert (pairs["created"] == pairs["conv"]).mean() > 0.99  # type: ignore[operator]
    # Paths: mostly forward, some skipping, ~8 % moving back one stage.
    order = {label: i for i, label in enumerate(OPPORTUNITY_STAGES)}
    hist = (
        read(out, HISTORY_FILE)
        .with_columns(
            id=stripped("Opportunity ID"),
            s=stripped("Stage").replace_strict(order, default=None, return_dtype=pl.Int64),
            at=parsed("Changed At"),
        )
        .filter(pl.col("at").is_not_null())
        .unique(maintain_order=True)
        .sort("id", "at")
        .with_columns(prev=pl.col("s").shift(1).over("id"))
        .filter((pl.col("s") < 5) & (pl.col("prev") < 5))
    )
    n = opps.height
    back = hist.filter(pl.col("s") == pl.col("prev") - 1)["id"].n_unique() / n
    skip = hist.filter(pl.col("s") > pl.col("prev") + 1)["id"].n_unique() / n
    assert 0.05 < back < 0.11
    assert 0.05 < skip < 0.25
    assert hist.filter(pl.col("s") < pl.col("prev") - 1).height == 0


def test_clean_values_are_in_range(out: Path) -> None:
    lo = datetime.combine(END - timedelta(days=730), datetime.min.time())
    hi = datetime.combine(END, datetime.max.time())
    for file in FILES:
        df = read(out, file)
        for col in DATE_COLUMNS[file]:
            values = df.select(parsed(col)).to_series().drop_nulls()
            clean = values.filter(values.dt.year() != 2099)
            if file == OPPORTUNITIES_FILE and col == "Close Date":
                continue  # close_before_created dirt sits before the window
            # Plans (Timeline, Expected Close Date) may lie up to a year after end_date.
            plan = col in ("Timeline", "Expected Close Date")
            top = hi + timedelta(days=366) if plan else hi
            assert clean.min() >= lo and clean.max() <= top, (file, col)  # type: ignore[operator]
    opps = read(out, OPPORTUNITIES_FILE).with_columns(
        amount=pl.col("Amount").str.strip_chars().cast(pl.Float64)
    )
    amount = opps.filter(pl.col("amount") >= 0)["amount"]
    assert amount.filter(amount > 0).min() >= 300 and amount.max() <= 200_000  # type: ignore[operator]
    assert 5_000 < amount.median() < 20_000  # type: ignore[operator]
    prob = opps["Probability"].drop_nulls().cast(pl.Int64)
    assert prob.min() == 0 and prob.max() == 100
    assert 0.03 < opps["Probability"].null_count() / opps.height < 0.15
    assert (opps["Currency"].str.strip_chars() == "USD").mean() > 0.85  # type: ignore[operator]
    leads = read(out, LEADS_FILE)
    labels = set(leads["Lead Status"].str.strip_chars().drop_nulls())
    assert labels == set(LEAD_STATUSES)


def test_funnel_toml_maps_the_sample() -> None:
    config = load_config(ROOT / "funnel.toml")
    raw = tomllib.loads((ROOT / "funnel.toml").read_text())
    assert raw["schedule"] == {"cron": "0 2 * * *", "timezone": "UTC"}
    assert raw["alerts"] == {"webhook_url_env": "FUNNEL_ALERT_WEBHOOK"}
    by_entity: dict[str, SourceConfig] = {s.entity: s for s in config.sources}
    # the exchange rates: the ECB layout, converting every amount into USD
    rates = by_entity.pop("exchange_rates")
    assert (rates.format, config.currency.reporting) == ("ecb", "USD")
    assert config.source_files(rates) == [ROOT / "data" / "sample" / RATES_FILE]
    files = {
        "leads": LEADS_FILE,
        "opportunities": OPPORTUNITIES_FILE,
        "stage_history": HISTORY_FILE,
        "activities": ACTIVITIES_FILE,
    }
    assert set(by_entity) == set(files)
    assert by_entity["opportunities"].probability_scale == 100
    for entity, file in files.items():
        source = by_entity[entity]
        (path,) = config.source_files(source)
        assert path == ROOT / "data" / "sample" / file
        df = read(path.parent, file)
        assert set(source.columns.values()) == set(df.columns)
        if "Stage" in df.columns or "Lead Status" in df.columns:
            col = "Lead Status" if entity == "leads" else "Stage"
            labels = set(df[col].str.strip_chars().drop_nulls())
            expected = set(LEAD_STATUSES if entity == "leads" else OPPORTUNITY_STAGES)
            assert labels - set(UNKNOWN_STAGE_LABELS) == expected
            assert set(source.stages) == expected
            assert not set(source.stages) & set(UNKNOWN_STAGE_LABELS)
        # Every non-empty date cell parses with one of the declared formats.
        assert tuple(source.date_formats) == FORMATS
        for col in DATE_COLUMNS[file]:
            cells = df[col].drop_nulls()
            ok = df.select(parsed(col)).to_series().drop_nulls()
            assert ok.len() == cells.len(), (file, col)


def test_dirt_kinds_are_either_rejections_or_hygiene() -> None:
    for file, kinds in FILE_DIRT_KINDS.items():
        assert set(kinds) <= set(REJECT_KINDS) | set(HYGIENE_KINDS), file
    assert all(re.fullmatch(r"[a-z_]+", k) for k in (*REJECT_KINDS, *HYGIENE_KINDS))


def test_hundred_thousand_leads(tmp_path: Path) -> None:
    summary = generate(tmp_path, leads=100_000, seed=5, end_date=date(2025, 6, 30))
    assert 100_000 < summary.rows[LEADS_FILE] < 100_500
    for file in FILES:
        data = (tmp_path / file).read_bytes()
        assert data.count(b"\n") - 1 == summary.rows[file]
    opps = read(tmp_path, OPPORTUNITIES_FILE).select(parsed("Created Date")).to_series()
    assert opps.max() <= datetime(2025, 6, 30, 23, 59, 59)  # type: ignore[operator]
    assert opps.min() >= datetime(2023, 7, 1)  # type: ignore[operator]


def test_rejects_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="leads"):
        generate(tmp_path, leads=0)
    with pytest.raises(ValueError, match="seed"):
        generate(tmp_path, seed=-1)
    with pytest.raises(ValueError, match="end_date"):
        generate(tmp_path, end_date=date(2100, 1, 1))


def test_the_rates_file_is_the_ecb_layout_over_the_window(tmp_path: Path) -> None:
    summary = generate(tmp_path, leads=300, seed=3)
    lines = (tmp_path / RATES_FILE).read_text().splitlines()
    assert lines[0] == "Date,USD,JPY,GBP,CHF,HRK,"  # a column per currency, a trailing comma
    assert summary.rows[RATES_FILE] == len(lines) - 1
    days = [date.fromisoformat(line.split(",")[0]) for line in lines[1:]]
    assert days == sorted(days, reverse=True)  # newest first
    assert days[0] == date(2026, 10, 30)  # the window's last business day
    assert all(d.weekday() < 5 for d in days)
    assert days[-1] <= date(2024, 11, 1)  # every close in the window has a rate before it
    cells = [line.split(",") for line in lines[1:]]
    assert all(c[5] == "N/A" and c[6] == "" for c in cells)
    assert all(0.9 < float(c[1]) < 1.3 and 0.7 < float(c[3]) < 1.0 for c in cells)
