"""Each model on its own, from the fixed rows of tests/sql/models/*.yaml (see model_tests)."""

from __future__ import annotations

import pytest

from tests.sql.model_tests import (
    ModelTest,
    expected_rows,
    load_tests,
    run_model_test,
    same_rows,
)

TESTS = load_tests()


@pytest.mark.parametrize("test", TESTS, ids=[t.name for t in TESTS])
def test_model(test: ModelTest) -> None:
    got = run_model_test(test)
    expected = expected_rows(test)
    assert same_rows(got, expected, test.ordered), (
        f"{test.path}: {test.model}\n got:      {got}\n expected: {expected}"
    )
