"""A failed `funnel run` ends with one block a person can read (issue 21, item 1).

Each kind of failure a new user meets (a misspelt key, a missing file, a column the export
lacks, stage labels the config does not map, dates in another format, too many bad rows) is run
as `funnel run` from a shell: stderr names the thing, shows example values, has no traceback,
no Prefect or great-expectations lines, nothing twice, and fits in 25 lines.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.broken_configs import AS_OF, FUNNEL, broken_project, funnel_env
from tests.integration.ops_helpers import run_in_group

#: Lines Prefect, great-expectations or a stopping temporary server print.
NOISE = ("Traceback", "Task run", "Flow run", "great_expectations", "Error logging to API",
         "temporary server", "| INFO", "| ERROR")  # fmt: skip


def _run(config: Path, home: Path, *extra: str) -> tuple[int, str]:
    result = run_in_group(
        [*FUNNEL, "run", "--config", str(config), "--as-of", AS_OF, *extra],
        env=funnel_env(home),
        timeout=400,
    )
    return result.returncode, result.stderr


def _readable(stderr: str) -> list[str]:
    """The block's lines, after the checks every failure block passes."""
    lines = stderr.splitlines()
    assert len(lines) < 25, stderr
    for noise in NOISE:
        assert noise not in stderr, stderr
    said = [line for line in lines if line.strip()]
    assert len(said) == len(set(said)), stderr  # nothing printed twice
    return lines


@pytest.mark.parametrize(
    ("kind", "named"),
    [
        (
            "typo_key",
            [
                "funnel.toml: sources[crm_opportunities].probabilty_scale: unknown key",
                "did you mean 'probability_scale'?",
            ],
        ),
        (
            "missing_file",
            ["sources[crm_opportunities].path: no file matches", "opportunites.csv"],
        ),
        (
            "absent_column",
            [
                "sources[crm_opportunities].columns.amount: 'Amout' not found in",
                "opportunities.csv (did you mean 'Amount'?)",
            ],
        ),
    ],
)
def test_a_config_error_is_one_block_before_prefect_starts(
    tmp_path: Path, kind: str, named: list[str]
) -> None:
    config = broken_project(tmp_path / "project", kind)
    code, stderr = _run(config, tmp_path / "prefect")
    assert code == 2, stderr
    lines = _readable(stderr)
    for thing in named:
        assert thing in stderr, stderr
    assert lines[0].startswith("config error: ")
    # the command to paste: the check that lists every problem, naming this config
    assert lines[-1].split()[-3:] == ["check", "--config", str(config.resolve())]
    assert not (tmp_path / "prefect").exists()  # found before Prefect started


@pytest.mark.slow
def test_unknown_stage_labels_name_the_labels_with_counts_and_lines(tmp_path: Path) -> None:
    config = broken_project(tmp_path / "project", "unknown_stages")
    code, stderr = _run(config, tmp_path / "prefect")
    assert code == 3, stderr
    lines = _readable(stderr)
    assert lines[0].startswith("data-quality gate failed (run ")
    assert (
        "  crm_opportunities: 536 of 861 rows (62.3%) failed error checks,"
        " above max_error_share 5.0%"
    ) in lines
    (labels,) = [line for line in lines if "unknown stage label" in line]
    assert labels.strip() == (
        "534  crm_opportunities: unknown stage label, e.g. 'Verloren'"
        " (data/sample/opportunities.csv:2), 'Closed - Duplicate' (line 103)"
    )
    assert "nothing was published; the published warehouse is unchanged." in lines
    assert "log_dq_quarantine" in lines[-1] and "--state" in lines[-1]


@pytest.mark.slow
def test_unparseable_dates_show_the_values_and_the_command_that_lists_them(
    tmp_path: Path,
) -> None:
    config = broken_project(tmp_path / "project", "unparseable_dates")
    code, stderr = _run(config, tmp_path / "prefect")
    assert code == 3, stderr
    lines = _readable(stderr)
    assert "  crm_opportunities: 858 of 861 rows (99.7%) failed error checks," in stderr
    created = [line for line in lines if "unparseable value: created_at" in line]
    assert created == [
        "     856  crm_opportunities: unparseable value: created_at, e.g. '02.11.2024 02:32'"
        " (data/sample/opportunities.csv:2), '04.11.2024 11:14' (line 3)"
    ]
    # the command lists the rest: run it as printed, from a shell
    command = lines[-1].strip()
    assert command.startswith(str(Path(FUNNEL[0]).with_name("funnel"))) or "funnel sql" in command
    import shlex

    listed = run_in_group(
        [*FUNNEL, *shlex.split(command)[1:], "--format", "csv"],
        env=funnel_env(tmp_path / "prefect"),
        timeout=120,
    )
    assert listed.returncode == 0, listed.stderr
    rows = listed.stdout.splitlines()
    assert rows[0] == "source,source_file,source_line,reasons,original_row"
    assert sum("created_at='02.11.2024 02:32'" in r for r in rows) == 1
    assert len(rows) - 1 >= 858


@pytest.mark.slow
def test_a_blocking_share_names_each_source_and_its_reasons(tmp_path: Path) -> None:
    config = broken_project(tmp_path / "project", "blocking_share")
    code, stderr = _run(config, tmp_path / "prefect")
    assert code == 3, stderr
    lines = _readable(stderr)
    assert "above max_error_share 0.0%" in stderr
    blocked = [line.split(":")[0].strip() for line in lines if "above max_error_share" in line]
    assert sorted(blocked) == [
        "crm_activities", "crm_leads", "crm_opportunities", "crm_stage_history",
    ]  # fmt: skip
    assert (
        "       3  crm_stage_history: negative amount, e.g. -3605.0"
        " (data/sample/stage_history.csv:674), -4142.0 (line 1714)"
    ) in lines
    # superseded duplicates do not count against the share: listed after the reasons that do
    assert "superseded" not in "".join(lines[5:11])


@pytest.mark.slow
def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    config = broken_project(tmp_path / "project", "blocking_share")
    code, stderr = _run(config, tmp_path / "prefect", "--debug")
    assert code == 3, stderr
    assert "Traceback" in stderr and "DataQualityError" in stderr
    assert "data-quality gate failed (run " in stderr
