"""One synthesized stack for every infra test module."""
from __future__ import annotations

import pytest

from tests.infra.stack_template import Synthesized, synthesize


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory) -> Synthesized:
    return synthesize(tmp_path_factory.mktemp("infra"))
