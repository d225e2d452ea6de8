"""Tasks used only by the queue tests: their side effect is a file the test can read."""

from __future__ import annotations

import os
from pathlib import Path

from django.tasks import task


@task
def write_marker(path: str, text: str) -> dict[str, object]:
    Path(path).write_text(f"{text} from pid {os.getpid()}")
    return {"pid": os.getpid(), "text": text}
