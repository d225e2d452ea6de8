from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.hooks.receiver import Receiver


@pytest.fixture
def receiver(settings: Any) -> Iterator[Receiver]:
    """A receiver on 127.0.0.1, which the operator allowed (as on a developer's machine)."""
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    server = Receiver()
    yield server
    server.close()
