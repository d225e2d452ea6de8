"""The ``tidings-client`` wheel holds the SDK and nothing of the server."""

from __future__ import annotations

import importlib.util
import sys
import zipfile
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]


def backend() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "tidings_client_build", ROOT / "clients/python/tidings_client_build.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_wheel_ships_tidings_client_only(tmp_path: Path) -> None:
    name = backend().build_wheel(str(tmp_path))
    assert name == "tidings_client-0.1.0-py3-none-any.whl"
    with zipfile.ZipFile(tmp_path / name) as wheel:
        names = wheel.namelist()
        metadata = wheel.read("tidings_client-0.1.0.dist-info/METADATA").decode()
        core = wheel.read("tidings/client/_core.py")
    package = [n for n in names if not n.startswith("tidings_client-0.1.0.dist-info/")]
    assert "tidings/__init__.py" not in names  # the server distribution's file
    assert all(n.startswith("tidings/client/") and n.endswith(".py") for n in package)
    assert "tidings/client/resources/sending.py" in package
    assert core == (ROOT / "tidings/client/_core.py").read_bytes()
    requires = [line for line in metadata.splitlines() if line.startswith("Requires-Dist:")]
    assert requires == ["Requires-Dist: httpx>=0.28,<1"]


def test_the_sdk_imports_nothing_but_the_stdlib_and_httpx() -> None:
    modules = set()
    for path in (ROOT / "tidings/client").rglob("*.py"):
        for line in path.read_text().splitlines():
            words = line.split()
            if words[:1] == ["import"] or (words[:1] == ["from"] and "import" in words):
                modules.add(words[1])
    tops = {m.split(".")[0] for m in modules} - {"tidings", "httpx", "__future__"}
    assert tops <= set(sys.stdlib_module_names)
    assert {
        m for m in modules if m.split(".")[0] == "tidings" and not m.startswith("tidings.client")
    } == set()
