"""Each model on its own, from the fixed rows of tests/sql/models/*.yaml (see model_tests)."""

from __future__ import annotations

import pytest

from tests.sql.model_tests import (
    ModelTest,
    expected_rows,
    load_tests,
    rows_diff,
    run_model_test,
)

TESTS = load_tests()


@pytest.mark.parametrize("test", TESTS, ids=[t.name for t in TESTS])
def test_model(test: ModelTest) -> None:
    diff = rows_diff(run_model_test(test), expected_rows(test), test.ordered)
    if diff is not None:
        pytest.fail(f"{test.path}: {test.model}: {diff}", pytrace=False)
