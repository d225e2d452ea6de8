"""The system prompt: who the persona is, what data they have, and the rules of the answer."""

from __future__ import annotations

from tidings.drafts.answers import catalog_for_prompt
from tidings.drafts.catalog import Catalog
from tidings.drafts.models import PersonaType

RULES = """\
Answer with JSON only: {"subject": …, "preheader": …, "body": …, "variables": […]}.
- body is a complete MJML document (<mjml><mj-head>…</mj-head><mj-body>…</mj-body></mjml>), 600px wide,
  with a heading, short paragraphs, at most two buttons (mj-button with an https href), and a footer.
- Personalise only with Liquid output tags for the variables listed below, each with a default:
  {{ firstName | default: "there" }}. No other variable exists; never invent one.
- The footer must hold <a href="{{ unsubscribeUrl }}">Unsubscribe</a>, a link to {{ preferencesUrl }}
  and {{ project.postalAddress }}. {{ project.name }} is the sender's name.
- subject at most 78 characters, preheader at most 110; plain text, no HTML.
- variables lists the catalog variables the email uses.
- When the user asks for a change, return the whole revised email, changing only what was asked."""


def tone_cues(catalog: Catalog) -> list[str]:
    cues = []
    for name, cue in catalog.cues.items():
        if cue["share"] >= 0.5:
            cues.append(f"most of them have {name} = {cue['value']} ({cue['share']:.0%})")
    return cues


def system_prompt(*, catalog: Catalog, project_name: str, brand_notes: str) -> str:
    persona = catalog.persona
    if persona.type == PersonaType.NONE:
        who = "No persona was chosen: write for the project's audience in general."
    elif persona.type == PersonaType.CONTACT:
        who = f"Write for one person, {persona.name}. Use their data only through the variables below."
    else:
        kind = "audience (segment)" if persona.type == PersonaType.SEGMENT else "tag"
        who = (
            f"Write for the {kind} “{persona.name}”: {catalog.cohort_size} contacts. "
            "The email goes to each of them with their own values filled in."
        )
    parts = [
        f"You draft marketing emails for {project_name}, sent with the Tidings email platform.",
        who,
        "Variables you may use (with how many of the people have a value):",
        catalog_for_prompt(catalog),
    ]
    cues = tone_cues(catalog)
    if cues:
        parts.append("Tone cues: " + "; ".join(cues) + ".")
    if brand_notes.strip():
        parts.append(f"Brand notes from {project_name}:\n{brand_notes.strip()}")
    parts.append(RULES)
    return "\n\n".join(parts)
