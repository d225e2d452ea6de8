"""The async client against the live server, and the SDK used where Django cannot be imported."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.client.conftest import run_async
from tidings.client import AsyncTidings, AuthenticationError, NotFoundError, ValidationError
from tidings.core.models import Project

from .conftest import FAST

ROOT = Path(__file__).resolve().parents[2]


def test_async_client_round_trip(server: str, secret: str, project: Project) -> None:
    async def run() -> None:
        async with AsyncTidings(api_key=secret, base_url=server, retry=FAST) as tidings:
            assert (await tidings.project.get()).id == project.pk
            result = await tidings.contacts.bulk_upsert([{"email": f"a{i}@example.net"} for i in range(5)])
            assert result.created == 5
            pager = tidings.contacts.list(limit=2)
            assert len((await pager.page()).items) == 2
            assert sorted([c.email async for c in pager]) == sorted(f"a{i}@example.net" for i in range(5))
            assert [len(page) async for page in pager.pages()] == [2, 2, 1]
            one = await tidings.contacts.create("solo@example.net", first_name="Solo")
            got, tags = await asyncio.gather(tidings.contacts.get(one.id), tidings.tags.create("async"))
            assert (got.first_name, tags.name) == ("Solo", "async")
            await tidings.contacts.delete(one.id)
            with pytest.raises(NotFoundError):
                await tidings.contacts.get(one.id)
            with pytest.raises(ValidationError) as caught:
                await tidings.project.update(brand_color="red")
            assert caught.value.errors[0].path == "brandColor"
        async with AsyncTidings(api_key="tdk_00000000_wrong", base_url=server) as stranger:
            with pytest.raises(AuthenticationError):
                await stranger.project.get()

    run_async(run())


# Run by a fresh interpreter: any import of django (or the server's own packages) fails loudly.
STANDALONE = textwrap.dedent(
    """
    import importlib.abc, json, sys

    class NoServer(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in ("django", "ninja", "pydantic") or name in (
                "tidings.core", "tidings.audience", "tidings.campaigns", "tidings.settings", "tidings.api",
            ):
                raise ImportError(f"{name} must not be imported by the SDK")
            return None

    sys.meta_path.insert(0, NoServer())

    from tidings.client import NotFoundError, Tidings

    with Tidings() as tidings:  # TIDINGS_API_KEY and TIDINGS_URL
        project = tidings.project.get()
        contact = tidings.contacts.create("standalone@example.net", custom_fields={"plan": "pro"})
        try:
            tidings.contacts.get(contact.id + 1000)
            missing = False
        except NotFoundError:
            missing = True
    loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("django", "ninja", "pydantic", "tidings"))
    print(json.dumps({"project": project.name, "plan": contact.custom_fields["plan"], "missing": missing,
                      "loaded": loaded}))
    """
)


def test_the_sdk_works_without_django(server: str, secret: str, tmp_path: Path) -> None:
    script = tmp_path / "standalone.py"
    script.write_text(STANDALONE)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO", "TIDINGS"))}
    env.update({"TIDINGS_API_KEY": secret, "TIDINGS_URL": server})
    # -I: no user site, no PYTHONPATH, no script directory on sys.path; only the checkout is added.
    run = f"import sys; sys.path.insert(0, {str(ROOT)!r}); exec(open({str(script)!r}).read())"
    done = subprocess.run(
        [sys.executable, "-I", "-c", run],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    assert answer["project"] == "Acme Mail"
    assert answer["plan"] == "pro"
    assert answer["missing"] is True
    assert all(m == "tidings" or m.startswith("tidings.client") for m in answer["loaded"]), answer["loaded"]
