"""Fixtures for the pure-Python records package. No Django here: run with
``pytest -p no:django --confcutdir=tests/records tests/records``."""

from __future__ import annotations

import pytest

from tests.records.helpers import make_ctx, make_school
from xueji.records.context import RowContext, SchoolCatalog


@pytest.fixture(scope="session")
def school() -> SchoolCatalog:
    return make_school()


@pytest.fixture(scope="session")
def ctx(school: SchoolCatalog) -> RowContext:
    return make_ctx(school)
