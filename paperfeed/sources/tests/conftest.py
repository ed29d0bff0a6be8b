from __future__ import annotations

from pathlib import Path

import pytest

from paperfeed.sources.http import PoliteClient
from paperfeed.sources.testing import FakeTime, ReplayServer


@pytest.fixture
def fixtures(shared_dir: Path) -> Path:
    return shared_dir / "fixtures"


@pytest.fixture
def server():
    with ReplayServer() as running:
        yield running


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def client(fake_time: FakeTime) -> PoliteClient:
    """arXiv's real politeness rules, with time faked so waits cost nothing."""
    return PoliteClient(delay=3.0, max_retries=3, timeout=5,
                        clock=fake_time.clock, sleep=fake_time.sleep)
