"""Fixtures for prompt tests: a fake Anthropic API and a ReviveGenerator pointed at it.

Browser tests can reuse ``fake_anthropic`` (import it from here or call
``tests.fake_anthropic.start_fake_anthropic()``) and point the Jupyter server at ``fake.url``
with ``c.ReviveGenerator.base_url`` or ``ANTHROPIC_BASE_URL``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from jupyter_revive.prompts import ReviveGenerator
from tests.fake_anthropic import FakeAnthropic

TEST_KEY = "sk-ant-test-0123456789abcdefghij"


@pytest.fixture
def fake_anthropic() -> Iterator[FakeAnthropic]:
    with FakeAnthropic() as fake:
        yield fake


@pytest.fixture
async def generator(fake_anthropic: FakeAnthropic) -> AsyncIterator[ReviveGenerator]:
    gen = ReviveGenerator(api_key=TEST_KEY, base_url=fake_anthropic.url, timeout=5.0)
    yield gen
    await gen.close()
