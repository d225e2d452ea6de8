"""Per-recipient render of an 8 KB MJML newsletter by the compiled renderer, against a bare join.

The design is the newsletter starter (``tidings/content/starters/newsletter.mjml``)
with its middle content sections repeated until the MJML source is 8-9 KB,
its footer links made static so that it reads exactly 6 variables
(``firstName``, ``company``, ``plan``, ``city``, ``email``, ``project``),
and a subject holding ``firstName``. It is compiled once (not timed); the
figure is ``CompiledDesign.render(ctx)`` (subject, preheader, HTML and plain
text) per recipient for 1,000 recipients with varied values, median and p95
over ``--repeat`` rounds.

Baseline, same run: the same final output of each recipient pre-split at the
slots (about as many chunks as the compiled form fills) and put back together
with ``''.join``, the least any renderer must do per copy. For context: one
``render_full`` per recipient (Liquid, MJML, CSS inliner, text), timed while
checking that both renderers agree byte for byte on every recipient, and the
starter's own footer (per-recipient ``unsubscribeUrl``/``preferencesUrl`` in
``href``: 8 variables) rendered the compiled way. Nothing here needs a database.
"""

from __future__ import annotations

import gc
import random
import re
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

GOAL_US = 20.0
RECIPIENTS = 1_000
MIN_BYTES, MAX_BYTES = 8 * 1024, 9 * 1024
STARTER = Path(__file__).resolve().parent.parent / "tidings" / "content" / "starters" / "newsletter.mjml"
VARIABLES = {"firstName", "company", "plan", "city", "email", "project"}
SUBJECT = '{{ firstName | default: "Hello" }}, here is what changed this month'
PREHEADER = "Faster imports, segments that stay current, and drafts for a persona."
STATIC_LINKS = {
    "{{ preferencesUrl }}": "https://example.com/preferences",
    "{{ unsubscribeUrl }}": "https://example.com/unsubscribe",
}

FIRST = [
    "Ada", "Grace", "José", "Zoë", "Søren", "Łukasz", "Anne-Marie", "Mei", "Olu", "Priya", "Seán",
    "Björn", "Chloé", "Dmitri", "Fatima", "Hiroshi", "Ingrid", "Kwame", "Lucía", "Mateo", "Nora",
]  # fmt: skip
LAST = ["Lovelace", "Hopper", "García", "Nakamura", "O'Brien", "Müller", "Okafor", "Singh", "Kowalski"]
COMPANIES = [
    "Acme", "Globex", "Initech", "Smith & Sons", "Müller GmbH", "Macy's", "Hooli", "Vandelay Industries",
    "Bits & Bytes Ltd.", "Northwind Traders", "Café Noir", "Stark Industries",
]  # fmt: skip
PLANS = ["free"] * 50 + ["pro"] * 30 + ["team"] * 15 + ["enterprise"] * 5
CITIES = ["Berlin", "Lisbon", "São Paulo", "Zürich", "New York", "Osaka", "Saint-Étienne", "Kraków", "Austin"]
DOMAINS = ["example.com", "mail.example.org", "example.net", "corp.example.de"]


def design_source(starter: str) -> tuple[str, int]:
    """The starter with its middle content sections repeated to 8-9 KB; returns (source, sections added)."""
    sections = list(re.finditer(r"<mj-section\b.*?</mj-section>\s*", starter, re.DOTALL))
    # The first two (masthead, greeting) and the last two (sign-off, footer) frame the letter.
    middle = sections[2:-2]
    insert_at = middle[-1].end()
    added: list[str] = []
    while len(starter.encode()) + sum(len(s.encode()) for s in added) < MIN_BYTES:
        added.append(middle[len(added) % len(middle)].group(0))
    source = starter[:insert_at] + "".join(added) + starter[insert_at:]
    size = len(source.encode())
    if not MIN_BYTES <= size <= MAX_BYTES:
        raise RuntimeError(f"the design source is {size} bytes, not 8-9 KB: change the starter or the bench")
    return source, len(added)


def recipients(n: int, project: Any) -> list[dict[str, Any]]:
    """``render_context`` of n contacts with the fill rates of a real list, and per-recipient links."""
    from datetime import UTC, datetime, timedelta

    from tidings.content.templating import render_context

    rng = random.Random(11)
    contexts = []
    for i in range(n):
        first = rng.choice(FIRST) if rng.random() < 0.9 else ""
        last = rng.choice(LAST) if rng.random() < 0.8 else ""
        local = ".".join(p for p in (first, last) if p).lower().replace("'", "") or f"reader{i}"
        custom: dict[str, Any] = {}
        if rng.random() < 0.95:
            custom["plan"] = rng.choice(PLANS)
        if rng.random() < 0.6:
            custom["city"] = rng.choice(CITIES)
        if rng.random() < 0.3:
            custom["points"] = rng.randrange(5_000)
        contact = SimpleNamespace(
            email=f"{local}{i}@{rng.choice(DOMAINS)}",
            first_name=first,
            last_name=last,
            company=rng.choice(COMPANIES) if rng.random() < 0.4 else "",
            phone="",
            country=rng.choice(["DE", "DE", "DE", "US", "FR", "BR", ""]),
            language=rng.choice(["de", "en", "en", "fr", "pt-BR"]),
            created_at=datetime(2024, 1, 1, tzinfo=UTC) + timedelta(seconds=rng.randrange(40_000_000)),
            custom_fields=custom,
        )
        token = f"{rng.getrandbits(128):032x}"
        links = {
            "unsubscribeUrl": f"https://mail.example.com/u/{token}",
            "preferencesUrl": f"https://mail.example.com/p/{token}",
        }
        contexts.append(render_context(project=project, contact=contact, links=links))
    return contexts


EVEN_CUTS = {"subject": 0, "html": 0, "text": 0}  # recipients whose output presplit cut evenly


def _part_chunks(parts: list[Any], ctx: dict[str, Any]) -> list[str]:
    return [p if type(p) is str else p(ctx) for p in parts]


def _even_split(text: str, n: int) -> list[str]:
    step = max(1, len(text) // max(1, n))
    return [text[i : i + step] for i in range(0, len(text), step)] or [""]


def presplit(compiled: Any, ctx: dict[str, Any], rendered: Any) -> tuple[list[str], list[str], list[str]]:
    """The recipient's final subject, HTML and text cut where the compiled form has its slots.

    Where the output is tidied after the slots are filled (the text with an
    empty value), that part is cut evenly into as many chunks instead.
    """
    subject = _part_chunks(compiled._subject, ctx)
    html = _part_chunks(compiled._html, ctx)
    merged = _part_chunks(compiled._text.parts, ctx)
    if "".join(subject) != rendered.subject:
        subject = _even_split(rendered.subject, len(subject))
        EVEN_CUTS["subject"] += 1
    if "".join(html) != rendered.html:
        html = _even_split(rendered.html, len(html))
        EVEN_CUTS["html"] += 1
    if "".join(merged) != rendered.text:
        merged = _even_split(rendered.text, len(merged))
        EVEN_CUTS["text"] += 1
    assert "".join(subject) == rendered.subject
    assert "".join(html) == rendered.html
    assert "".join(merged) == rendered.text
    return subject, html, merged


def _rounds_us(call: Callable[[Any], object], items: list[Any], repeat: int) -> dict[str, Any]:
    """Every item timed on its own, ``repeat`` rounds: median and p95 µs over all of them."""
    for item in items[:50]:
        call(item)  # warm up
    samples: list[float] = []
    round_medians, round_means = [], []
    clock = time.perf_counter_ns
    for _ in range(repeat):
        gc.collect()
        times = []
        started = clock()
        for item in items:
            start = clock()
            call(item)
            times.append((clock() - start) / 1000)
        round_means.append((clock() - started) / 1000 / len(items))
        round_medians.append(statistics.median(times))
        samples.extend(times)
    cuts = statistics.quantiles(samples, n=100)
    return {
        "median_us": round(statistics.median(samples), 2),
        "p95_us": round(cuts[94], 2),
        "p99_us": round(cuts[98], 2),
        "round_medians_us": [round(m, 2) for m in round_medians],
        "round_means_us": [round(m, 2) for m in round_means],
    }


def _checked_full(
    source: Any, compiled: Any, contexts: list[dict[str, Any]]
) -> tuple[list[Any], list[float]]:
    """render_full of every recipient, timed, asserted equal to the compiled output; counts fallbacks."""
    from tidings.content import compiled as compiled_module
    from tidings.content.rendering import render_full

    outputs, times = [], []
    for ctx in contexts:
        start = time.perf_counter_ns()
        expected = render_full(source, ctx)
        times.append((time.perf_counter_ns() - start) / 1000)
        outputs.append(expected)
    fallbacks = 0
    real = compiled_module.render_full

    def counting(*args: Any, **kwargs: Any) -> Any:
        nonlocal fallbacks
        fallbacks += 1
        return real(*args, **kwargs)

    compiled_module.render_full = counting
    try:
        for ctx, expected in zip(contexts, outputs, strict=True):
            assert compiled.render(ctx) == expected, "the compiled render differs from render_full"
    finally:
        compiled_module.render_full = real
    assert fallbacks == 0, f"{fallbacks} recipients were rendered the long way: the figure would mix paths"
    return outputs, times


def run(repeat: int = 5) -> dict[str, object]:
    import django

    django.setup()
    from tidings.content.compiled import compile_design
    from tidings.content.rendering import MJML, DesignSource
    from tidings.content.templating import ProjectInfo, variables_used

    EVEN_CUTS.update(dict.fromkeys(EVEN_CUTS, 0))
    starter = STARTER.read_text(encoding="utf-8")
    body, added = design_source(starter)
    for markup, url in STATIC_LINKS.items():
        body = body.replace(markup, url)
    source = DesignSource(format=MJML, subject=SUBJECT, preheader=PREHEADER, body=body)
    used = variables_used(f"{source.subject}\n{source.preheader}\n{source.body}")
    assert used == VARIABLES, f"the design reads {sorted(used)}, not the 6 variables {sorted(VARIABLES)}"
    assert variables_used(SUBJECT), "the subject must hold a variable"

    project = ProjectInfo(
        name="Fjord & Finch", postal_address="Fjord & Finch GmbH, Torstraße 1, 10119 Berlin"
    )
    contexts = recipients(RECIPIENTS, project)
    base = {"project": project.as_dict()}
    start = time.perf_counter()
    compiled = compile_design(source, base=base)
    compile_ms = (time.perf_counter() - start) * 1000
    assert compiled.fast, f"the design does not compile to the fast form: {compiled.reason}"

    outputs, full_times = _checked_full(source, compiled, contexts)
    split = [presplit(compiled, ctx, out) for ctx, out in zip(contexts, outputs, strict=True)]
    preheader = outputs[0].preheader
    join = "".join

    def joined(chunks: tuple[list[str], list[str], list[str]]) -> tuple[str, str, str, str]:
        subject, html, text = chunks
        return join(subject), preheader, join(html), join(text)

    compiled_stats = _rounds_us(compiled.render, contexts, repeat)
    join_stats = _rounds_us(joined, split, repeat)

    # The starter's own footer: per-recipient links inside href, 8 variables.
    linked_body = design_source(starter)[0]
    linked = DesignSource(format=MJML, subject=SUBJECT, preheader=PREHEADER, body=linked_body)
    linked_compiled = compile_design(linked, base=base)
    assert linked_compiled.fast, f"the starter's footer does not compile fast: {linked_compiled.reason}"
    _checked_full(linked, linked_compiled, contexts[:200])
    linked_stats = _rounds_us(linked_compiled.render, contexts, repeat)

    full_median = statistics.median(full_times)
    median = compiled_stats["median_us"]
    verdict = "met" if median <= GOAL_US else "NOT met"
    print(f"render_design: goal <= {GOAL_US:g} µs median per recipient {verdict}: {median} µs")
    slots = sum(1 for p in compiled._html if type(p) is not str)
    return {
        "figure": "compiled render of an 8 KB MJML newsletter with 6 variables, median µs per recipient",
        "unit": "µs",
        "value": median,
        "goal": f"<= {GOAL_US:g} µs median",
        "goal_met": median <= GOAL_US,
        "results": {
            "recipients": RECIPIENTS,
            "rounds": repeat,
            "source_bytes": len(source.body.encode()),
            "sections_repeated": added,
            "variables": sorted(used),
            "html_bytes_median": statistics.median(len(o.html.encode()) for o in outputs),
            "text_bytes_median": statistics.median(len(o.text.encode()) for o in outputs),
            "html_slots": slots,
            "chunks_per_recipient": {
                "html": statistics.median(len(s[1]) for s in split),
                "text": statistics.median(len(s[2]) for s in split),
                "subject": statistics.median(len(s[0]) for s in split),
            },
            "presplit_even_cuts": EVEN_CUTS,
            "compile_ms": round(compile_ms, 1),
            "compiled": compiled_stats,
            "join_baseline": join_stats,
            "compiled_over_join": round(median / join_stats["median_us"], 1),
            "render_full_median_us": round(full_median, 1),
            "render_full_p95_us": round(statistics.quantiles(full_times, n=100)[94], 1),
            "render_full_recipients": len(full_times),
            "speedup_over_render_full": round(full_median / median, 1),
            "equal_to_render_full": True,
            "starter_footer_8_variables": {
                "variables": sorted(variables_used(f"{linked.subject}\n{linked.body}")),
                "checked_against_render_full": 200,
                **linked_stats,
            },
        },
        "baseline": (
            "''.join of each recipient's final subject, HTML and text pre-split at the slots "
            "(about as many chunks), same run; render_full per recipient for context"
        ),
    }
