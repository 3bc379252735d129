"""Each model on its own, from the fixed rows of tests/sql/models/*.yaml (see model_tests), and
a check that every mart and intermediate model has such a test."""

from __future__ import annotations

import pytest

from funnel import sqlmodels
from tests.sql.model_tests import (
    ModelTest,
    expected_rows,
    load_tests,
    rows_diff,
    run_model_test,
)

TESTS = load_tests()

#: Marts and intermediate models without a YAML test, each with the reason. A trivial model (no
#: rule of its own to get wrong) would go here too; there is none: even a pass-through mart like
#: dq_quarantine has its sort order, and int_windows its lengths.
UNTESTED: dict[str, str] = {
    # The calendar holds whole fiscal years (over a thousand rows per test): its rules are
    # asserted day by day in tests/sql/test_calendar.py instead.
    "int_calendar__days": "whole fiscal years per test; tested in tests/sql/test_calendar.py",
    "calendar": "a pass-through of int_calendar__days; tested in tests/sql/test_calendar.py",
}

LAYERS_TESTED = ("intermediate", "marts")


@pytest.mark.parametrize("test", TESTS, ids=[t.name for t in TESTS])
def test_model(test: ModelTest) -> None:
    diff = rows_diff(run_model_test(test), expected_rows(test), test.ordered)
    if diff is not None:
        pytest.fail(f"{test.path}: {test.model}: {diff}", pytrace=False)


def test_every_mart_and_intermediate_model_has_a_yaml_test() -> None:
    models = {m.name for m in sqlmodels.discover() if m.layer in LAYERS_TESTED}
    untested = sorted(models - {t.model for t in TESTS} - UNTESTED.keys())
    assert untested == [], (
        f"models without a test in tests/sql/models/*.yaml: {untested}; write one (rows in, "
        "rows out), or list the model in UNTESTED in this file with the reason"
    )


def test_the_untested_list_names_only_untested_models() -> None:
    models = {m.name for m in sqlmodels.discover() if m.layer in LAYERS_TESTED}
    tested = sorted(UNTESTED.keys() & {t.model for t in TESTS})
    gone = sorted(UNTESTED.keys() - models)
    assert (tested, gone) == ([], []), (
        f"remove from UNTESTED in {__file__}: {tested} now have a YAML test; {gone} are no "
        "intermediate model or mart"
    )
