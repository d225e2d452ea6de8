"""python -m bench NAME [--repeat N]: run one benchmark and write its JSON under bench/results/."""

from __future__ import annotations

import argparse
import importlib
import json
import os
import pkgutil
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"


def available() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules([str(HERE)]) if not m.name.startswith("_"))


def git_revision() -> str:
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=HERE.parent, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain"], cwd=HERE.parent, capture_output=True, text=True
        )
        return rev + ("-dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def environment() -> dict[str, object]:
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "machine": platform.machine(),
        "database": os.environ.get("TIDINGS_DATABASE_URL", "sqlite (temporary data dir)").split("@")[-1],
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("name", nargs="?", help="benchmark to run; --list shows them")
    parser.add_argument("--list", action="store_true", help="list the benchmarks")
    parser.add_argument("--repeat", type=int, default=5, help="rounds per measurement (median is reported)")
    parser.add_argument(
        "--use-env",
        action="store_true",
        help="use TIDINGS_DATA_DIR / TIDINGS_DATABASE_URL as set (default: a throwaway SQLite data dir)",
    )
    args = parser.parse_args()
    if args.repeat < 1:
        parser.error("--repeat must be 1 or more")
    if args.list or not args.name:
        for name in available():
            module = importlib.import_module(f"bench.{name}")
            print(f"{name:20} {(module.__doc__ or '').strip().splitlines()[0]}")
        return
    if args.name not in available():
        parser.error(f"no benchmark {args.name!r}; one of: {', '.join(available())}")

    # Benchmarks write: never into a real deployment's database by accident.
    if not args.use_env:
        os.environ["TIDINGS_DATA_DIR"] = tempfile.mkdtemp(prefix="tidings-bench-")
        os.environ.pop("TIDINGS_DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tidings.settings")
    module = importlib.import_module(f"bench.{args.name}")
    started = time.time()
    result = module.run(repeat=args.repeat)
    record = {
        "benchmark": args.name,
        **result,
        "environment": environment(),
        "revision": git_revision(),
        "startedAt": datetime.fromtimestamp(started, UTC).isoformat(timespec="seconds"),
        "seconds": round(time.time() - started, 2),
    }
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"{args.name}-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.json"
    path.write_text(json.dumps(record, indent=2) + "\n")
    json.dump(record, sys.stdout, indent=2)
    print(f"\nwritten to {path.relative_to(HERE.parent)}")


if __name__ == "__main__":
    main()
