"""The draft between turns, and how it is laid out as an email.

The state holds only what the conversation decided (the user's points, the
tone, the buttons, what was asked for); greeting, paragraphs, subject and
preheader are derived from it on every render. That is what lets a
follow-up such as "more formal" reword everything at once, and it keeps
the whole conversation re-derivable from its prompts.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tidings.drafts import composer_phrases as phrases
from tidings.drafts import composer_tone as tone
from tidings.drafts.composer_links import find_links
from tidings.drafts.composer_mjml import Doc, Run, Var, liquid_text, variables_in
from tidings.drafts.composer_sentences import INTENTS, REGISTERS, Idea
from tidings.drafts.composer_text import PREHEADER_MAX, fit, fit_subject, is_offer, plain, words_of

MIN_LENGTH, MAX_LENGTH = -2, 1
MAX_BUTTONS = 3


@dataclass
class State:
    """What the conversation has decided so far."""

    project: str
    catalog: dict[str, str]  # the variables this email may use → their defaults
    register: str
    audience: str
    language: str
    text: str = ""  # the first prompt, for the intent's wording and button labels
    ideas: list[Idea] = field(default_factory=list)
    length: int = 0  # -2 (one paragraph) … 1 (an extra paragraph)
    buttons: list[tuple[str, str]] = field(default_factory=list)
    ps: Idea | None = None
    subject: str = ""  # set by the user; "" = from the first point
    preheader: str = ""  # set by the user; "" = derived
    signature: str = ""  # set by the brand or the user; "" = "The <project> team"
    mentions: list[str] = field(default_factory=list)  # variables the user asked for
    blocked: list[str] = field(default_factory=list)  # variables the user asked to leave out
    no_exclaim: bool = False
    accent: str = ""
    # Whether a catalog field may be used without being asked for. Not with no persona: nothing
    # then says the readers have, say, a company worth mentioning.
    personalise: bool = True
    urls: list[str] = field(default_factory=list)  # every web address seen in the conversation

    @property
    def intent(self) -> str:
        """What the email mainly does, from its first point (announce, invite, remind, …)."""
        intent = INTENTS.get(self.ideas[0].kind, "general") if self.ideas else "general"
        # "Black Friday: 40% off everything" states an offer without saying "promote".
        return "promote" if intent == "general" and self.offer else intent

    @property
    def offer(self) -> bool:
        """True when the email is about a sale, discount or offer."""
        return is_offer(self.text) or any(is_offer(idea.slot) for idea in self.ideas)

    def shift_register(self, step: int) -> bool:
        """Move one step towards formal (-1) or casual (+1); False when already at the end."""
        index = REGISTERS.index(self.register) + step
        if not 0 <= index < len(REGISTERS):
            return False
        self.register = REGISTERS[index]
        return True

    def remember_urls(self, urls: list[str]) -> None:
        for url in urls:
            if url.startswith("http") and url not in self.urls:
                self.urls.append(url)


@dataclass
class Outcome:
    """What a request did, for the reply: actions, notes (declines, questions), clauses not understood."""

    done: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    # In a first prompt: the clauses that are content, not requests (masked, with their links).
    content: list[tuple[str, list[str]]] = field(default_factory=list)

    def add(self, other: Outcome) -> None:
        self.done += other.done
        self.notes += other.notes
        self.unknown += other.unknown


Command = Callable[[State], Outcome]


def usable(state: State, name: str) -> bool:
    return name in state.catalog and name not in state.blocked


def find_variable(state: State, key: str) -> str | None:
    """The catalog name for a field: `plan` may be catalogued as `plan` or `customFields.plan`."""
    for name in state.catalog:
        if name == key or name.rsplit(".", 1)[-1] == key:
            return name
    return None


def humanise(name: str) -> str:
    """ "customFields.favouriteColour" → "favourite colour"."""
    last = name.rsplit(".", 1)[-1]
    return re.sub(r"[_-]+", " ", re.sub(r"([a-z])([A-Z])", r"\1 \2", last)).lower().strip()


def _calm(text: str, state: State) -> str:
    """Remove exclamation marks when the brand or the user asked for none."""
    if not state.no_exclaim:
        return text
    text = re.sub(r"\s*!+", ".", text.replace("¡", ""))
    return re.sub(r"([.?…])\.+", r"\1", text)


def greeting_runs(state: State) -> list[Run]:
    name = "firstName" if usable(state, "firstName") else None
    runs = tone.greeting(state.language, state.register, state.catalog[name] if name else None)
    if "firstName" in state.mentions and name and not any(isinstance(r, Var) for r in runs):
        # Asked for by name, so used even with an empty default.
        before, _, after = tone.GREETINGS[state.language][state.register][0].partition("{name}")
        runs = [before, Var("firstName", state.catalog["firstName"]), after]
    last = find_variable(state, "lastName")
    if last and last in state.mentions and usable(state, last):
        at = next((i for i, r in enumerate(runs) if isinstance(r, Var)), None)
        if at is None:
            before, _, after = tone.GREETINGS[state.language][state.register][0].partition("{name}")
            runs = [before, Var(last, state.catalog[last]), after]
        else:
            runs = [*runs[: at + 1], " ", Var(last, state.catalog[last]), *runs[at + 1 :]]
    return runs


def personal_lines(state: State) -> list[list[Run]]:
    """Sentences using catalog variables: those asked for, else one that fits (company, city, …)."""
    lines = []
    asked = [n for n in state.mentions if usable(state, n) and n.rsplit(".", 1)[-1] not in _ELSEWHERE]
    for name in asked:
        lines.append(personal_line(state, name))
    if not asked and state.personalise and state.length > MIN_LENGTH:
        for key in phrases.AUTO_PERSONAL:
            name = find_variable(state, key)
            # An empty default would leave a gap in the sentence for everyone without a value.
            if name and usable(state, name) and state.catalog[name].strip():
                lines.append(personal_line(state, name))
                break
    return lines


def personal_line(state: State, name: str) -> list[Run]:
    return phrases.personal_line(
        name,
        humanise(name),
        state.catalog[name],
        state.register,
        intent=state.intent,
        audience=state.audience,
    )


# Variables used outside the body's sentences (greeting, footer).
_ELSEWHERE = frozenset({"firstName", "lastName", "email"})


def _joined(sentences: list[list[Run]]) -> list[Run]:
    runs: list[Run] = []
    for sentence in sentences:
        if runs:
            runs.append(" ")
        runs.extend(sentence)
    return runs


def _chunks(items: list[list[Run]], parts: int) -> list[list[list[Run]]]:
    size = -(-len(items) // parts)
    return [items[i : i + size] for i in range(0, len(items), size)] if items else []


def layout(state: State) -> tuple[list[list[Run]], int]:
    """Paragraphs (as runs) and where the buttons go: before the closing paragraph, if there is one."""
    register = state.register
    ideas = [[idea.text(register)] for idea in state.ideas] or [[f"Here's the latest from {state.project}."]]
    personal = personal_lines(state)
    if state.length <= MIN_LENGTH:
        return [_joined(ideas + personal)], 1
    lead = [ideas[0]]
    # A welcome is welcoming whoever reads it.
    mood = "welcome" if state.intent == "welcome" else state.audience
    opener = phrases.OPENERS.get(mood, {}).get(register) if state.length >= 0 else None
    if opener:
        lead = [*lead, [opener]] if mood in phrases.OPENER_AFTER else [[opener], *lead]
    paragraphs = [_joined(lead + personal)]
    rest = ideas[1:]
    if state.length < 0:
        # Shorter, not empty: a single point still gets a one-line closing.
        closing = phrases.closing_lines(state.intent, state.offer, state.audience, register, state.project)
        return [*paragraphs, _joined(rest) if rest else closing[:1]], len(paragraphs) + bool(rest)
    paragraphs += [_joined(chunk) for chunk in _chunks(rest, 1 if len(rest) <= 2 else 2)]
    if state.length > 0:
        paragraphs.append(
            [phrases.extra_paragraph(state.intent, state.offer, state.audience, register, state.project)]
        )
    closing = phrases.closing_lines(state.intent, state.offer, state.audience, register, state.project)
    return [*paragraphs, [" ".join(closing)]], len(paragraphs)


def subject(state: State) -> str:
    """The subject line: the user's if they set one, else the first point's."""
    chosen = state.subject or (state.ideas[0].subject if state.ideas else f"News from {state.project}")
    return fit_subject(_calm(chosen, state)) or f"News from {state.project}"


def preheader(state: State, subject_line: str) -> str:
    """The preview text: a second point that does not repeat the subject, else a line for the intent."""
    if state.preheader:
        return fit(_calm(state.preheader, state), PREHEADER_MAX)
    for idea in state.ideas[1:]:
        text = idea.text(state.register)
        candidate = words_of(text)
        overlap = len(candidate & words_of(subject_line)) / max(len(candidate), 1)
        if not find_links(text) and overlap < 0.6:
            return fit(_calm(text, state), PREHEADER_MAX)
    line = phrases.preheader_line(
        intent=state.intent,
        offer=state.offer,
        audience=state.audience,
        text=" ".join(i.slot for i in state.ideas) or state.text,
        project=state.project,
    )
    return fit(_calm(line, state), PREHEADER_MAX)


def _calm_runs(runs: list[Run], state: State) -> list[Run]:
    return [_calm(r, state) if isinstance(r, str) else r for r in runs]


def document(state: State) -> Doc:
    """The state laid out as an email."""
    paragraphs, buttons_at = layout(state)
    subject_line = subject(state)
    email = find_variable(state, "email")
    footer_note: list[Run] = []
    if email and email in state.mentions and usable(state, email):
        footer_note = ["This email was sent to ", Var(email, state.catalog[email]), "."]
    return Doc(
        project=plain(state.project),
        subject=subject_line,
        preheader=preheader(state, subject_line),
        greeting=_calm_runs(greeting_runs(state), state),
        paragraphs=[_calm_runs(p, state) for p in paragraphs],
        buttons=list(state.buttons),
        buttons_at=buttons_at,
        sign_off=tone.sign_off(state.language, state.register),
        signature=state.signature or tone.default_signature(state.language, plain(state.project)),
        ps=_calm(state.ps.text(state.register), state) if state.ps else "",
        footer_note=footer_note,
        accent=state.accent,
    )


def used_variables(doc: Doc) -> list[str]:
    """The catalog variables an email uses, sorted."""
    runs = [*doc.greeting, *doc.footer_note, *(run for p in doc.paragraphs for run in p)]
    return sorted(set(variables_in(runs)))


def plan(state: State, doc: Doc) -> dict[str, Any]:
    """The structured, JSON-serialisable state of the email, for the UI and for revisions."""
    return {
        "composer": "offline",
        "intent": state.intent,
        "tone": {
            "register": state.register,
            "audience": state.audience,
            "language": state.language,
            "noExclamationMarks": state.no_exclaim,
        },
        "length": state.length,
        "subject": doc.subject,
        "preheader": doc.preheader,
        "greeting": liquid_text(doc.greeting),
        "paragraphs": [liquid_text(p) for p in doc.paragraphs],
        "buttons": [{"label": label, "url": url} for label, url in doc.buttons],
        "signOff": doc.sign_off,
        "signature": doc.signature,
        "ps": doc.ps,
        "variables": used_variables(doc),
        "ideas": [idea.to_dict() for idea in state.ideas],
        "mentions": list(state.mentions),
        "knownUrls": list(state.urls),
        "accent": doc.accent,
    }
