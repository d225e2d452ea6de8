"""The built-in offline composer: a prompt and its follow-ups in, an MJML marketing email out.

The default AI provider, so the product drafts emails out of the box: no
network, no model, no database, and the same conversation always gives the
same bytes. The parts:

- composer_text, composer_links: reading the prompt (sentences, links,
  instructions turned into sentences for the reader, worded by
  composer_sentences);
- composer_tone, composer_phrases: the persona's and the brand's tone, and
  the composer's own sentences around the user's points;
- composer_edits (with composer_buttons, composer_adjust): requests, in
  follow-ups and in the prompt itself;
- composer_state: the draft between turns and its layout;
- composer_mjml: writing MJML with Liquid personalisation.

Personalisation only ever uses the persona's catalog variables, always with
a default, and user text can never become a Liquid tag.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tidings.drafts import composer_state as st
from tidings.drafts.composer_adjust import style_terms
from tidings.drafts.composer_edits import apply_message
from tidings.drafts.composer_links import is_link_only, label_for, unmask
from tidings.drafts.composer_mjml import VARIABLE_NAME_RE, render
from tidings.drafts.composer_sentences import INTENTS, Idea, cap
from tidings.drafts.composer_state import Outcome
from tidings.drafts.composer_text import MAX_IDEAS, end_sentence, plain, read_prompt_sentence, split_sentences
from tidings.drafts.composer_tone import AUDIENCE_TONES, LANGUAGES, audience_of, brand_cues, persona_tone

PERSONA_TYPES = ("none", "contact", "segment", "tag")
# DESIGN §2: with no persona the AI may use these; only firstName has a default that reads well alone.
FALLBACK_VARIABLES = {"firstName": "there", "lastName": "", "email": "", "company": ""}
MAX_PROMPT_CHARS = 20_000
INTENT_NOUNS = {
    "announce": "an announcement",
    "introduce": "an introduction",
    "invite": "an invitation",
    "remind": "a reminder",
    "thank": "a thank-you email",
    "welcome": "a welcome email",
    "promote": "a promotional email",
    "ask": "a request",
    "apologise": "an apology",
    "general": "an update",
}
NUMBER_WORDS = ("no", "one", "two", "three", "four", "five", "six")


@dataclass(frozen=True)
class PersonaCues:
    """What the composer knows of the persona it writes for."""

    type: str  # "none" | "contact" | "segment" | "tag"
    name: str = ""  # the tag's / segment's name, or the contact's display name
    # Variable name → safe default text: the ONLY variables the email may use.
    variables: dict[str, str] = field(default_factory=dict)
    # A contact persona's real values: they pick wording, and are never written into the email.
    values: dict[str, str] = field(default_factory=dict)
    dominant: dict[str, str] = field(default_factory=dict)  # most common value of some fields in the cohort
    cohort_size: int = 0


@dataclass(frozen=True)
class Composition:
    """A composed email and what the composer says about it."""

    subject: str
    preheader: str
    body: str  # MJML source with Liquid personalisation
    variables: list[str]  # the catalog variables the body/subject/preheader use (sorted, unique)
    reply: str  # one or two sentences for the chat: what the composer did
    plan: dict[str, Any]  # JSON-serialisable structured state of the email


def compose(
    *, prompts: list[str], persona: PersonaCues, project_name: str, brand_notes: str = ""
) -> Composition:
    """Compose an email from a first prompt and the follow-ups after it, for a persona.

    `prompts[0]` is the request; each later item revises the draft, in order.
    Raises ValueError for an empty conversation, an empty or oversized
    prompt, or an unknown persona type.
    """
    _check(prompts, persona)
    project = plain(project_name)[:100] or "our team"
    state, reply = _start(prompts[0], persona, project, brand_notes)
    for followup in prompts[1:]:
        outcome = apply_message(state, followup)
        reply = _followup_reply(outcome or Outcome())
    doc = st.document(state)
    return Composition(
        subject=doc.subject,
        preheader=doc.preheader,
        body=render(doc),
        variables=st.used_variables(doc),
        reply=reply,
        plan=st.plan(state, doc),
    )


def _check(prompts: list[str], persona: PersonaCues) -> None:
    if not prompts:
        raise ValueError("The conversation is empty: give the composer a prompt describing the email.")
    for index, prompt in enumerate(prompts):
        which = "The prompt" if index == 0 else f"Follow-up {index}"
        if not isinstance(prompt, str) or not prompt.strip():
            raise ValueError(f"{which} is empty: describe the email (or the change) in a few words.")
        if len(prompt) > MAX_PROMPT_CHARS:
            raise ValueError(f"{which} is too long: at most {MAX_PROMPT_CHARS} characters.")
    if persona.type not in PERSONA_TYPES:
        raise ValueError(
            f"Unknown persona type {persona.type!r}: expected one of {', '.join(PERSONA_TYPES)}."
        )


def catalog_for(persona: PersonaCues) -> dict[str, str]:
    """The variables the email may use and their defaults; names Liquid cannot address are left out."""
    variables = persona.variables or (FALLBACK_VARIABLES if persona.type == "none" else {})
    return {name: str(default or "") for name, default in variables.items() if VARIABLE_NAME_RE.match(name)}


def _start(prompt: str, persona: PersonaCues, project: str, brand_notes: str) -> tuple[st.State, str]:
    """The first draft from the first prompt, and the reply that describes it."""
    shaped = persona_tone(persona)
    brand = brand_cues(brand_notes)
    state = st.State(
        project=project,
        catalog=catalog_for(persona),
        register=brand.register or shaped.register,
        audience=shaped.audience,
        language=shaped.language,
        text=prompt,
        no_exclaim=brand.no_exclaim,
        signature=brand.signature,
        accent=brand.accent,
        personalise=persona.type != "none",
    )
    notes: list[str] = []
    dropped = 0
    link_only: list[str] = []  # "Read more at https://…": the button, unless another link is
    for masked, links in split_sentences(prompt):
        state.remember_urls(links)
        if is_link_only(masked):
            link_only.append(unmask(masked, links))
            continue
        parts = [(masked, links)]
        # Requests in a prompt ("Keep it short.", "Subject: …") are applied, not written.
        outcome = apply_message(state, unmask(masked, links), first=True)
        if outcome is not None:
            notes += outcome.notes
            parts = outcome.content
        for part, part_links in parts:
            dropped += _read(state, part, part_links, persona)
    _lead_with_news(state)
    if not state.ideas:
        state.ideas.append(Idea("fallback", project, f"News from {project}"))
        notes.append(
            "The offline composer couldn't tell what the email should say, so it wrote a placeholder: "
            "tell me what to announce or share."
        )
    if dropped:
        notes.append(f"I kept the first {MAX_IDEAS} points and left out {dropped} more.")
    if not state.buttons:
        if state.urls:
            url = state.urls[0]
            state.buttons.append((label_for(url=url, text=prompt, intent=state.intent), url))
        else:
            notes.append("Add a link and I will add a button.")
    for sentence in link_only:
        if not any(url in sentence for _, url in state.buttons) and len(state.ideas) < MAX_IDEAS:
            text = end_sentence(cap(sentence))
            state.ideas.append(Idea("text", text, text))
    return state, " ".join([_summary(state, persona), *notes])


def _lead_with_news(state: st.State) -> None:
    """The first instruction ("announce…", "invite…") leads, ahead of side notes and plain statements.

    Its sentence opens the email and gives the subject, whatever order the prompt was typed in.
    """
    if state.ideas and state.ideas[0].kind in ("text", "note"):
        main = next((i for i in state.ideas if i.kind in INTENTS), None)
        if main is not None:
            state.ideas.remove(main)
            state.ideas.insert(0, main)


def _read(state: st.State, masked: str, links: list[str], persona: PersonaCues) -> int:
    """Add what one sentence (or clause) of the prompt says; 1 when it had to be left out, else 0."""
    reading = read_prompt_sentence(masked, links, project=state.project)
    for term in dict.fromkeys(style_terms(reading.style_words)):
        _quietly(state, term)
    if reading.audience_words and state.audience == "general" and persona.type == "none":
        # "…to our VIP customers" shapes the tone when no persona does.
        state.audience = audience_of(reading.audience_words)
    idea = reading.idea
    if idea is None or any(i.text("neutral") == idea.text("neutral") for i in state.ideas):
        return 0
    if len(state.ideas) >= MAX_IDEAS:
        return 1
    state.ideas.append(idea)
    return 0


def _quietly(state: st.State, term: str) -> None:
    """A style word in the request ("a short, friendly email") sets the starting point, without a reply."""
    if term == "shorter":
        state.length = max(st.MIN_LENGTH, state.length - 1)
    elif term == "longer":
        state.length = min(st.MAX_LENGTH, state.length + 1)
    else:
        state.shift_register(-1 if term == "formal" else +1)


def _summary(state: st.State, persona: PersonaCues) -> str:
    """ "Drafted an announcement for the tag “vip” in an appreciative tone: two paragraphs and a button." """
    what = INTENT_NOUNS.get(state.intent, INTENT_NOUNS["general"])
    name = plain(persona.name)[:60]
    who = {
        "tag": f" for the tag “{name}”",
        "segment": f" for the audience “{name}”",
        "contact": f" for {name}" if name else " for this contact",
    }.get(persona.type, "")
    mood = AUDIENCE_TONES.get(state.audience) or {"formal": "formal", "casual": "friendly"}.get(
        state.register, ""
    )
    how = f" in {'an' if mood[0] in 'aeiou' else 'a'} {mood} tone" if mood else ""
    language = (
        f", greeting and sign-off in {LANGUAGES[state.language]}" if state.language in LANGUAGES else ""
    )
    count = len(st.layout(state)[0])
    size = f"{NUMBER_WORDS[count] if count < len(NUMBER_WORDS) else count} paragraph{'s' * (count != 1)}"
    label = state.buttons[0][0] if state.buttons else ""
    article = "an" if label[:1].lower() in ("a", "e", "i", "o", "u") else "a"
    button = f" and {article} “{label}” button" if label else ""
    return f"Drafted {what}{who}{how}{language}: {size}{button}."


def _followup_reply(outcome: Outcome) -> str:
    """One or two sentences: what changed, then anything declined or not understood."""
    sentences = []
    if outcome.done:
        actions = outcome.done
        joined = actions[0] if len(actions) == 1 else f"{', '.join(actions[:-1])} and {actions[-1]}"
        sentences.append(cap(joined) if joined.endswith(".") else f"{cap(joined)}.")
    sentences += outcome.notes
    if outcome.unknown:
        quoted = ", ".join(f"“{plain(clause)[:80]}”" for clause in outcome.unknown)
        if outcome.done or outcome.notes:
            sentences.append(f"The offline composer understood only part of that: I didn't act on {quoted}.")
        else:
            sentences.append(
                f"The offline composer didn't understand {quoted}, so the email is unchanged. It understands "
                "requests like “shorter”, “more formal”, “add a button to the pricing page” or "
                "“change the subject to …”."
            )
    return " ".join(sentences) or "Glad it helps. Tell me if you'd like any changes."
