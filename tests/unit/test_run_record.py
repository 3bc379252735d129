"""The run's record in Prefect's UI (funnel.run_record): its markdown summary and failed checks."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from funnel.run_record import FAILED_CHECKS_KEY, failed_checks_table, summary_markdown
from funnel.summary import RunSummary, SourceCounts

SOURCES = [
    SourceCounts("crm_deals", "opportunities", 861, 858, 3, 12),
    SourceCounts("crm_leads", "leads", 2000, 2000, 0, 0),
]
FAILED = [
    ("crm_deals", "unparseable_dates", "error", 3, 861),
    ("crm_deals", "amount_negative", "warn", 12, 861),
]


def test_the_summary_gives_rows_per_source_headline_stale_sources_and_failed_checks() -> None:
    summary = RunSummary(
        "r1",
        date(2026, 11, 2),
        "published",
        SOURCES,
        headline=[
            {"trailing_window": "30d", "currency": "EUR", "won": 4, "win_rate": 0.25},
            {"trailing_window": "all", "currency": "EUR", "won": 40, "win_rate": Decimal("0.5")},
        ],
        stale=("crm_leads: stale export: newest record 2026-10-01",),
    )
    text = summary_markdown(summary, FAILED)
    assert text.startswith("# funnel run r1: published\n\nAs of 2026-11-02.\n")
    assert "| crm_deals | opportunities | 861 | 858 | 3 | 12 |" in text
    assert "| crm_leads | leads | 2,000 | 2,000 | 0 | 0 |" in text
    assert "| **all** |  | 2,861 | 2,858 | 3 | 12 |" in text
    assert "| window | currency | won | win rate |" in text
    assert "| 30d | EUR | 4 | 0.250 |" in text and "| all | EUR | 40 | 0.500 |" in text
    assert "- crm_leads: stale export: newest record 2026-10-01" in text
    assert f"2 failed (1 error, 1 warn or info): see the `{FAILED_CHECKS_KEY}`" in text


def test_a_failed_run_says_why_and_that_nothing_was_published() -> None:
    message = "blocking data-quality gate failed:\n  crm_deals: 3 of 861 rows failed"
    summary = RunSummary("r2", date(2026, 11, 2), "failed_dq", SOURCES, message=message)
    text = summary_markdown(summary, FAILED[:1])
    assert text.startswith("# funnel run r2: failed_dq\n")
    assert "```\n" + message + "\n```" in text
    assert "None: nothing was published." in text
    assert "## Stale sources\n\nNone." in text


def test_the_failed_checks_table_has_a_row_per_check() -> None:
    assert failed_checks_table(FAILED) == [
        {
            "source": "crm_deals",
            "check": "unparseable_dates",
            "severity": "error",
            "rows_failed": 3,
            "rows_checked": 861,
        },
        {
            "source": "crm_deals",
            "check": "amount_negative",
            "severity": "warn",
            "rows_failed": 12,
            "rows_checked": 861,
        },
    ]
