"""Fixtures shared by the integration tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import copy_sample


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the default config and the bundled sample in a temp folder."""
    copy_sample(tmp_path)
    return tmp_path
