"""Webhook deliveries a second from one sender to a receiver on loopback, against plain httpx.

The sender signs each body, checks the address, pins the connection, logs the attempt and
marks the delivery, one at a time per endpoint. The baseline POSTs the same bodies with one
keep-alive httpx client and nothing else, in the same run. Also: the cost of writing the events
(``emit_many``) and of asking whether anyone listens when no endpoint does (the send pipeline
asks once per batch).
"""

from __future__ import annotations

import multiprocessing
import statistics
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

N = 2000


class _Sink(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as a real receiver behind a proxy
    disable_nagle_algorithm = True  # headers and body go in two writes: no delayed-ACK stall

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: Any) -> None:
        pass


def _serve(ports: multiprocessing.Queue) -> None:
    """The receiver, in a process of its own: in the sender's process it would take turns with it
    for the interpreter lock and slow both."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Sink)
    ports.put(server.server_address[1])
    server.serve_forever()


def run(repeat: int = 5) -> dict[str, object]:
    import django

    django.setup()
    import httpx
    from django.conf import settings
    from django.core.management import call_command

    from tidings.core import services as core
    from tidings.hooks import sender
    from tidings.hooks import services as hooks
    from tidings.hooks.models import WebhookDelivery, WebhookEndpoint

    call_command("migrate", verbosity=0)
    settings.WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    ports: multiprocessing.Queue = multiprocessing.Queue()
    receiver = multiprocessing.Process(target=_serve, args=(ports,), daemon=True)
    receiver.start()
    url = f"http://127.0.0.1:{ports.get(timeout=10)}/hooks"
    project = core.project_create(name="Bench")
    quiet = core.project_create(name="Quiet")
    endpoint = hooks.endpoint_create(
        project=project, values={"url": url, "events": ["contact.created"]}
    ).endpoint
    data = [{"id": i, "email": f"person{i}@example.net", "status": "subscribed"} for i in range(N)]

    ours, plain, emit, ask = [], [], [], []
    for _ in range(repeat):
        WebhookDelivery.objects.all().delete()
        start = time.perf_counter()
        hooks.emit_many(project, "contact.created", data)
        emit.append((time.perf_counter() - start) / N * 1e6)
        bodies = list(WebhookDelivery.objects.values_list("body", flat=True))

        start = time.perf_counter()
        run_ = sender.run_endpoint(WebhookEndpoint.objects.get(pk=endpoint.pk), max_seconds=600)
        ours.append(N / (time.perf_counter() - start))
        assert run_.sent == N, run_

        with httpx.Client() as client:
            start = time.perf_counter()
            for body in bodies:
                assert client.post(url, content=body, headers={"Content-Type": "application/json"}).is_success
            plain.append(N / (time.perf_counter() - start))

        start = time.perf_counter()
        for _ in range(1000):
            hooks.listeners(quiet.pk, "message.sent")
        ask.append((time.perf_counter() - start) / 1000 * 1e6)
    receiver.terminate()
    a, b = statistics.median(ours), statistics.median(plain)
    return {
        "figure": "webhook deliveries a second, one endpoint on loopback (median of rounds)",
        "unit": "deliveries/s",
        "value": round(a, 1),
        "results": {
            "tidings_per_s": round(a, 1),
            "plain_httpx_per_s": round(b, 1),
            "tidings_over_plain": round(a / b, 3),
            "emit_us_per_event": round(statistics.median(emit), 1),
            "no_listener_check_us": round(statistics.median(ask), 1),
        },
        "baseline": "the same bodies POSTed with one keep-alive httpx client, same run",
        "deliveries": N,
    }
