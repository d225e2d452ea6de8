"""The peer's side of ``send_speed``, run under ``bench._post_office_settings``.

``python -m bench._post_office_peer queue TEMPLATE.json RECIPIENTS.jsonl`` makes the
peer's tables and queues one mail per recipient the way a Django project queues a
newsletter with post-office: an ``EmailTemplate`` (Django template language) and
``mail.send_many`` with each recipient's context and ``render_on_delivery`` (the mail is
rendered by the sending worker, as Tidings renders at send time, and the database keeps
only the context). ``... count`` prints the mails by status. Each prints one JSON line.
The sending itself is post-office's own command, ``send_queued_mail``, run by the benchmark.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path


def queue(template_path: Path, recipients_path: Path) -> dict[str, object]:
    from django.core.management import call_command
    from post_office import mail
    from post_office.models import EmailTemplate

    call_command("migrate", verbosity=0)
    spec = json.loads(template_path.read_text(encoding="utf-8"))
    template = EmailTemplate.objects.create(
        name="newsletter", subject=spec["subject"], content=spec["text"], html_content=spec["html"]
    )
    started = time.perf_counter()
    queued = 0
    chunk: list[dict[str, object]] = []
    with recipients_path.open(encoding="utf-8") as lines:
        for line in lines:
            row = json.loads(line)
            chunk.append(
                {
                    "recipients": [row["email"]],
                    "sender": spec["from"],
                    "template": template,
                    "context": row["context"],
                    "headers": row["headers"],
                    "render_on_delivery": True,
                }
            )
            if len(chunk) == 1000:
                queued += len(mail.send_many(chunk))
                chunk = []
    if chunk:
        queued += len(mail.send_many(chunk))
    return {"queued": queued, "seconds": round(time.perf_counter() - started, 2)}


def count() -> dict[str, object]:
    from django.db.models import Count
    from post_office.models import STATUS, Email

    names = {value: name for name, value in STATUS._asdict().items()}
    rows = Email.objects.values("status").annotate(n=Count("id"))
    return {str(names.get(r["status"], r["status"])): r["n"] for r in rows}


def main() -> None:
    import django

    django.setup()
    if sys.argv[1:2] == ["queue"] and len(sys.argv) == 4:
        result = queue(Path(sys.argv[2]), Path(sys.argv[3]))
    elif sys.argv[1:] == ["count"]:
        result = count()
    else:
        raise SystemExit(
            "usage: python -m bench._post_office_peer queue TEMPLATE.json RECIPIENTS.jsonl | count"
        )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
