"""The Python examples of docs/sdk.md, run as written against a live server.

Each block runs in order with a client for the project bound to ``tidings`` (block 1 opens its
own, with the placeholders ``tdk_…`` and ``https://mail.example.com`` replaced by the test's key
and server). A block marked ``<!-- fragment … -->`` just above it is left out.
"""

from __future__ import annotations

import concurrent.futures
import re
from pathlib import Path
from typing import Any

from tests.sending import factories as f
from tidings.client import Tidings
from tidings.sending.models import Message

DOC = Path(__file__).resolve().parents[2] / "docs" / "sdk.md"
BLOCK = re.compile(r"(<!-- fragment[^>]*-->\n)?```python\n(.*?)```", re.S)


def examples() -> list[str]:
    return [code for fragment, code in BLOCK.findall(DOC.read_text()) if not fragment]


def test_the_docs_have_examples_to_run() -> None:
    assert len(examples()) >= 4


def test_every_example_runs_against_a_live_server(
    server: str, secret: str, project: Any, monkeypatch: Any, capsys: Any
) -> None:
    f.verified_domain(project)
    f.outbox_connection(project)
    people = f.contacts(project, 3)
    monkeypatch.setenv("TIDINGS_API_KEY", secret)
    monkeypatch.setenv("TIDINGS_URL", server)
    for number, code in enumerate(examples(), start=1):
        code = code.replace("tdk_…", secret).replace("https://mail.example.com", server)
        with Tidings(api_key=secret, base_url=server) as tidings:
            namespace: dict[str, Any] = {"tidings": tidings, "__name__": f"sdk_example_{number}"}
            program = compile(code, f"docs/sdk.md example {number}", "exec")
            # In a thread of its own, where the async example's asyncio.run may start a loop.
            with concurrent.futures.ThreadPoolExecutor(1) as pool:
                pool.submit(exec, program, namespace).result()
    printed = capsys.readouterr().out
    # The quick start sent its email; the listing examples printed the contacts.
    message = Message.objects.get(email="ann@example.net")
    assert printed.startswith(f"{message.campaign_id} ")
    for person in people:
        assert person.email in printed
