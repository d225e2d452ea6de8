"""Cost of an authenticated API request (key lookup, project, JSON) against /healthz, in-process."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def _per_call_us(call: Callable[[], object], n: int, repeat: int) -> float:
    rounds = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(n):
            call()
        rounds.append((time.perf_counter() - start) / n * 1e6)
    return statistics.median(rounds)


def run(repeat: int = 5) -> dict[str, object]:
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client

    from tidings.core import services

    call_command("migrate", verbosity=0)
    project = services.project_create(name="Bench")
    secret = services.api_key_create(project=project, name="bench").secret
    client = Client(headers={"Authorization": f"Bearer {secret}"}, HTTP_HOST="127.0.0.1")

    def healthz() -> None:
        assert client.get("/healthz").status_code == 200

    def project_get() -> None:
        assert client.get("/api/v1/project").status_code == 200

    def key_list() -> None:
        assert client.get("/api/v1/api-keys").status_code == 200

    n = 500
    for warm in (healthz, project_get, key_list):
        warm()
    base = _per_call_us(healthz, n, repeat)
    single = _per_call_us(project_get, n, repeat)
    listing = _per_call_us(key_list, n, repeat)
    return {
        "figure": "authenticated API request, median µs per request in-process (Django test client)",
        "unit": "µs",
        "value": round(single, 1),
        "results": {
            "healthz_us": round(base, 1),
            "project_get_us": round(single, 1),
            "api_key_list_us": round(listing, 1),
            "project_get_over_healthz": round(single / base, 2),
            "api_key_list_over_healthz": round(listing / base, 2),
        },
        "baseline": "GET /healthz through the same middleware stack, same run",
    }
