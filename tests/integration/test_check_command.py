"""`funnel check` and `funnel init` from a shell (issue 21, item 2): the same broken projects
as the readable failures, the bundled sample, and a config written by `funnel init`."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import SAMPLE, copy_sample
from tests.integration.broken_configs import AS_OF, FUNNEL, broken_project, funnel_env


def _funnel(home: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*FUNNEL, *args], env=funnel_env(home), capture_output=True, text=True, timeout=120,
        cwd=cwd,
    )  # fmt: skip


def _check(config: Path, home: Path) -> subprocess.CompletedProcess[str]:
    return _funnel(home, "check", "--config", str(config), "--as-of", AS_OF)


def test_the_sample_passes_without_prefect_or_a_warehouse(tmp_path: Path) -> None:
    (tmp_path / "project").mkdir()
    config = copy_sample(tmp_path / "project")
    result = _check(config, tmp_path / "prefect")
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[-1] == "5 sources checked: a run would go ahead (exit 0)"
    assert "crm_opportunities (opportunities, format csv): data/sample/opportunities.csv" in lines
    assert "  rows: 861 read (the first 10,000 of each file at most)" in lines
    assert "  stages: 6 labels, all mapped" in lines  # the leads
    assert "  ids: opportunity_id in every row" in lines
    assert "  errors: 4 of 861 rows (0.5%) would be quarantined (max_error_share 5.0%)" in lines
    assert any(line.startswith("  numbers: amount: decimal point (detected from 861 values")
               for line in lines)  # fmt: skip
    # no warehouse, no state file, no Prefect home
    assert not (tmp_path / "project" / "data" / "warehouse").exists()
    assert not (tmp_path / "prefect").exists()


def test_check_imports_neither_prefect_nor_great_expectations(tmp_path: Path) -> None:
    (tmp_path / "project").mkdir()
    config = copy_sample(tmp_path / "project")
    script = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from funnel.cli import app\n"
        f"result = CliRunner().invoke(app, ['check', '--config', {str(config)!r}])\n"
        "assert result.exit_code == 0, result.output\n"
        "loaded = {m.split('.')[0] for m in sys.modules}\n"
        "print(sorted(loaded & {'prefect', 'great_expectations'}))\n"
    )
    result = _funnel(tmp_path / "prefect", "--version")  # the environment works
    assert result.returncode == 0
    done = subprocess.run(
        [FUNNEL[0], "-c", script], env=funnel_env(tmp_path / "prefect"),
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("kind", "code", "named"),
    [
        ("typo_key", 2, "sources[crm_opportunities].probabilty_scale: unknown key (did you mean"),
        ("missing_file", 2, "sources[crm_opportunities].path: no file matches"),
        ("absent_column", 2, "columns.amount: 'Amout' not found in"),
        ("unknown_stages", 3, "not mapped: 'Verloren' (533 rows), 'Closed - Duplicate' (1 row)"),
        ("unparseable_dates", 3, "unparseable value: created_at, e.g. '02.11.2024 02:32'"),
        ("blocking_share", 3, "BLOCKING: 0.5% of rows fail error checks, above max_error_share"),
    ],
)
def test_a_broken_project_exits_as_a_run_would(
    tmp_path: Path, kind: str, code: int, named: str
) -> None:
    config = broken_project(tmp_path / "project", kind)
    result = _check(config, tmp_path / "prefect")
    assert result.returncode == code, result.stdout + result.stderr
    assert named in result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    if kind in ("absent_column", "unknown_stages", "unparseable_dates", "blocking_share"):
        # the other sources are still checked and reported
        assert "crm_leads (leads, format csv): data/sample/leads.csv" in result.stdout


def test_rows_limits_what_is_read(tmp_path: Path) -> None:
    config = broken_project(tmp_path / "project", "unknown_stages")
    result = _funnel(tmp_path / "p", "check", "--config", str(config), "--rows", "50")
    assert "  rows: 50 read (the first 50 of each file at most)" in result.stdout
    assert "not mapped: 'Verloren' (28 rows)" in result.stdout


@pytest.mark.parametrize("export", ["leads", "opportunities", "stage_history", "activities"])
def test_init_writes_a_config_that_passes_check(tmp_path: Path, export: str) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    shutil.copy(SAMPLE / f"{export}.csv", folder / f"{export}.csv")
    written = _funnel(tmp_path / "p", "init", "--from", f"exports/{export}.csv", cwd=tmp_path)
    assert written.returncode == 0, written.stderr
    config = tmp_path / "funnel.toml"
    text = config.read_text()
    assert f'path = "exports/{export}.csv"' in text
    assert f'entity = "{export}"  # guessed' in text
    checked = _check(config, tmp_path / "p")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.splitlines()[-1] == "1 source checked: a run would go ahead (exit 0)"
    # never overwritten
    again = _funnel(tmp_path / "p", "init", "--from", f"exports/{export}.csv", cwd=tmp_path)
    assert again.returncode == 2
    assert "funnel.toml exists; not overwritten" in again.stderr
    assert config.read_text() == text


def test_init_comments_every_guess_and_what_it_could_not_guess(tmp_path: Path) -> None:
    shutil.copy(SAMPLE / "opportunities.csv", tmp_path / "deals.csv")
    out = tmp_path / "conf" / "deals.toml"
    written = _funnel(tmp_path / "p", "init", "--from", str(tmp_path / "deals.csv"),
                      "--out", str(out))  # fmt: skip
    assert written.returncode == 0, written.stderr
    lines = out.read_text().splitlines()
    # outside the config's folder: the export's full path
    assert f'path = "{tmp_path / "deals.csv"}"' in lines
    assert 'opportunity_id = "Opportunity ID"  # guessed from the column\'s name' in lines
    assert '"Closed Lost" = "lost"  # guessed (533 rows)' in lines
    assert any(line.startswith('# "Closed - Duplicate" = ""  # not guessed (1 rows)')
               for line in lines)  # fmt: skip
    assert 'date_format = ["%m/%d/%Y %H:%M:%S", "%m/%d/%Y"]' in out.read_text()
    settings = [line for line in lines if "=" in line and not line.startswith("#")]
    sections = ("[", 'path = "data/', "timezone", "name = ", "format = ", "path = ")
    assert all("# guessed" in line or line.startswith(sections) for line in settings), settings


@pytest.mark.acceptance
def test_init_and_check_on_the_real_maven_export(tmp_path: Path, shared_data: Path) -> None:
    """A real export with snake_case columns: init maps them, check names the one label it
    could not place and exits 3, as a run would."""
    export = shared_data / "maven_crm" / "sales_pipeline.csv"
    written = _funnel(tmp_path / "p", "init", "--from", str(export), cwd=tmp_path)
    assert written.returncode == 0, written.stderr
    text = (tmp_path / "funnel.toml").read_text()
    for line in (
        'opportunity_id = "opportunity_id"',
        'stage = "deal_stage"',
        'created_at = "engage_date"',
        'closed_at = "close_date"',
        'amount = "close_value"',
        'owner = "sales_agent"',
        '"Won" = "won"  # guessed (4,238 rows)',
        '# "Engaging" = ""  # not guessed (1,589 rows)',
    ):
        assert line in text, text
    checked = _funnel(tmp_path / "p", "check", "--as-of", "2017-12-31", cwd=tmp_path)
    assert checked.returncode == 3, checked.stdout + checked.stderr
    assert "not mapped: 'Engaging' (1,589 rows)" in checked.stdout
    # the user maps the label as the acceptance config does: the check passes
    (tmp_path / "funnel.toml").write_text(
        text.replace('# "Engaging" = ""', '"Engaging" = "meeting"')
    )
    fixed = _funnel(tmp_path / "p", "check", "--as-of", "2017-12-31", cwd=tmp_path)
    assert fixed.returncode == 0, fixed.stdout + fixed.stderr
