"""A PEP 517 build backend for ``tidings-client``, in the standard library only.

It packs ``tidings/client`` from the repository (``../../tidings/client``, or
the copy inside an sdist) and nothing else: in particular not
``tidings/__init__.py``, which belongs to the ``tidings`` server distribution.
Installed alone, ``tidings`` is then a namespace package holding only
``client``; installed beside the server, the server's ``tidings/__init__.py``
makes it a regular package and ``tidings.client`` is found in it all the same.

A hand-written backend (rather than setuptools or hatchling) because those
refuse or mishandle package sources outside the project folder, and because
it builds with ``--no-build-isolation`` in any environment, offline.
"""

from __future__ import annotations

import base64
import hashlib
import io
import re
import tarfile
import tomllib
import zipfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PACKAGE = Path("tidings") / "client"
EPOCH = (1980, 1, 1, 0, 0, 0)  # fixed times: the same sources give the same archive
VERSION = re.compile(r'^__version__\s*=\s*["\']([^"\']+)["\']', re.MULTILINE)


def _source() -> Path:
    """The package's folder: inside an unpacked sdist, or in the repository two levels up."""
    for root in (HERE, HERE.parents[1]):
        if (root / PACKAGE / "__init__.py").is_file():
            return root / PACKAGE
    raise FileNotFoundError(f"no {PACKAGE} beside {HERE} or in the repository above it")


def _files() -> list[tuple[str, Path]]:
    """(path in the archive, file on disk) for every file of the package, sorted."""
    source = _source()
    found = [
        p
        for p in source.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix not in (".pyc", ".pyo")
    ]
    return sorted(((PACKAGE / p.relative_to(source)).as_posix(), p) for p in found)


def _project() -> dict[str, Any]:
    project: dict[str, Any] = tomllib.loads((HERE / "pyproject.toml").read_text())["project"]
    match = VERSION.search((_source() / "__init__.py").read_text())
    if match is None:
        raise ValueError(f"no __version__ in {_source() / '__init__.py'}")
    return {**project, "version": match.group(1)}


def _dist_name(project: dict[str, Any]) -> str:
    return re.sub(r"[-_.]+", "_", project["name"]).lower()


def _metadata(project: dict[str, Any]) -> str:
    lines = [
        "Metadata-Version: 2.4",
        f"Name: {project['name']}",
        f"Version: {project['version']}",
        f"Summary: {project['description']}",
        f"Requires-Python: {project['requires-python']}",
        f"License-Expression: {project['license']}",
        *(f"Requires-Dist: {dependency}" for dependency in project.get("dependencies", [])),
    ]
    readme = HERE / project.get("readme", "README.md")
    if readme.is_file():
        lines.append("Description-Content-Type: text/markdown")
        return "\n".join(lines) + "\n\n" + readme.read_text()
    return "\n".join(lines) + "\n"


def _wheel_text() -> str:
    return "Wheel-Version: 1.0\nGenerator: tidings_client_build\nRoot-Is-Purelib: true\nTag: py3-none-any\n"


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def _write(archive: zipfile.ZipFile, name: str, data: bytes) -> None:
    info = zipfile.ZipInfo(name, date_time=EPOCH)
    info.external_attr = 0o644 << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    archive.writestr(info, data)


# -- PEP 517 hooks ----------------------------------------------------------------------------------


def get_requires_for_build_wheel(config_settings: dict[str, Any] | None = None) -> list[str]:
    return []


def get_requires_for_build_sdist(config_settings: dict[str, Any] | None = None) -> list[str]:
    return []


def prepare_metadata_for_build_wheel(
    metadata_directory: str, config_settings: dict[str, Any] | None = None
) -> str:
    project = _project()
    dist_info = f"{_dist_name(project)}-{project['version']}.dist-info"
    folder = Path(metadata_directory) / dist_info
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "METADATA").write_text(_metadata(project))
    (folder / "WHEEL").write_text(_wheel_text())
    return dist_info


def build_wheel(
    wheel_directory: str,
    config_settings: dict[str, Any] | None = None,
    metadata_directory: str | None = None,
) -> str:
    project = _project()
    name, version = _dist_name(project), project["version"]
    dist_info = f"{name}-{version}.dist-info"
    wheel_name = f"{name}-{version}-py3-none-any.whl"
    entries = [(arcname, path.read_bytes()) for arcname, path in _files()]
    entries += [
        (f"{dist_info}/METADATA", _metadata(project).encode()),
        (f"{dist_info}/WHEEL", _wheel_text().encode()),
    ]
    record = [_record_line(arcname, data) for arcname, data in entries] + [f"{dist_info}/RECORD,,"]
    with zipfile.ZipFile(Path(wheel_directory) / wheel_name, "w") as archive:
        for arcname, data in entries:
            _write(archive, arcname, data)
        _write(archive, f"{dist_info}/RECORD", ("\n".join(record) + "\n").encode())
    return wheel_name


def build_sdist(sdist_directory: str, config_settings: dict[str, Any] | None = None) -> str:
    """An sdist holds the package itself, so it builds without the repository around it."""
    project = _project()
    base = f"{_dist_name(project)}-{project['version']}"
    own = [("pyproject.toml", HERE / "pyproject.toml"), ("README.md", HERE / "README.md")]
    own.append(("tidings_client_build.py", Path(__file__).resolve()))
    members = [(arcname, path.read_bytes()) for arcname, path in own + _files() if path.is_file()]
    members.append(("PKG-INFO", _metadata(project).encode()))
    sdist_name = f"{base}.tar.gz"
    with tarfile.open(Path(sdist_directory) / sdist_name, "w:gz", format=tarfile.PAX_FORMAT) as archive:
        for arcname, data in sorted(members):
            info = tarfile.TarInfo(f"{base}/{arcname}")
            info.size = len(data)
            info.mode = 0o644
            info.mtime = 315532800  # 1980-01-01
            archive.addfile(info, io.BytesIO(data))
    return sdist_name
