"""Adjusting a draft: its length and register ("shorter", "more formal") and its personalisation.

Personalisation requests ("use their company", "mention plan") resolve to a
catalog variable or are declined: a field the persona has no data for never
reaches the email, whatever the request says.
"""

from __future__ import annotations

import re

from tidings.drafts import composer_state as st
from tidings.drafts.composer_links import MASK_RE
from tidings.drafts.composer_mjml import Var
from tidings.drafts.composer_state import Command, Outcome

_POSSESSIVE_RE = re.compile(
    r"^(?:their|his or her|the\s+(?:contact|recipient|customer|reader|person|subscriber|user)(?:'s|s')?|"
    r"each\s+(?:contact|person|recipient|customer)'s)\s+",
    re.IGNORECASE,
)
FIELD_ALIASES = {
    "company": "company", "company name": "company", "business": "company", "organisation": "company",
    "organization": "company", "employer": "company", "first name": "firstName", "firstname": "firstName",
    "name": "firstName", "given name": "firstName", "last name": "lastName", "surname": "lastName",
    "family name": "lastName", "lastname": "lastName", "email": "email", "email address": "email",
    "e-mail": "email", "phone": "phone", "phone number": "phone", "mobile": "phone", "country": "country",
    "city": "city", "town": "city", "language": "language", "plan": "plan", "subscription plan": "plan",
    "tier": "plan",
}  # fmt: skip
_MENTION_RE = re.compile(
    r"^(?:use|mention|include|add|reference|insert|personali[sz]e(?:\s+it)?\s+(?:with|using|by)|"
    r"address\s+(?:them|the reader)\s+by|greet\s+(?:them|the reader)\s+by)\s+(?P<x>.+)$",
    re.IGNORECASE,
)
_UNMENTION_RE = re.compile(
    r"^(?:(?:don't|do not|stop|no longer|never)\s+(?:use|mention|include|using|mentioning|including)|"
    r"remove|drop|delete|take out|leave out)\s+(?P<x>.+)$",
    re.IGNORECASE,
)


def resolve_variable(phrase: str, catalog: dict[str, str]) -> tuple[str, str] | None:
    """ "their company" → ("var", "company"); ("missing", "city") if not catalogued; None if not a field."""
    words = phrase.strip().lower()
    had_possessive = bool(_POSSESSIVE_RE.match(words))
    words = re.sub(r"^the\s+", "", _POSSESSIVE_RE.sub("", words))
    words = re.sub(
        r"(?:'s)?\s+(?:field|value|data|info|details|as well|too|in the email|in the body)$", "", words
    )
    words = words.strip(" .")
    for name in catalog:
        if words in (name.lower(), name.rsplit(".", 1)[-1].lower(), st.humanise(name)):
            return ("var", name)
    canonical = FIELD_ALIASES.get(words)
    if canonical:
        for name in catalog:
            if name == canonical or name.rsplit(".", 1)[-1] == canonical:
                return ("var", name)
        return ("missing", st.humanise(canonical))
    if had_possessive and len(words.split()) <= 3 and words:
        return ("missing", words)
    return None


def parse_mention(text: str, links: list[str], state: st.State) -> Command | None:
    match = _MENTION_RE.match(text)
    found = resolve_variable(match.group("x"), state.catalog) if match and not MASK_RE.search(text) else None
    if found is None:
        return None
    kind, name = found
    if kind == "missing":
        return lambda state: Outcome(notes=[f"This persona has no {name} data, so I left it out."])

    def mention(state: st.State) -> Outcome:
        if name in state.blocked:
            state.blocked.remove(name)
        label = st.humanise(name)
        if name == "firstName" and any(isinstance(r, Var) for r in st.greeting_runs(state)):
            return Outcome(notes=["The greeting already uses their first name."])
        if name in st.used_variables(st.document(state)):
            return Outcome(notes=[f"The email already uses their {label}."])
        if name not in state.mentions:
            state.mentions.append(name)
        outcome = Outcome(done=[f"added a sentence with their {label}"])
        if not state.catalog[name].strip():
            outcome.notes.append(f"Contacts without a {label} will see a blank there.")
        return outcome

    return mention


def parse_unmention(text: str, links: list[str], state: st.State) -> Command | None:
    match = _UNMENTION_RE.match(text)
    if not match:
        return None
    phrase = re.sub(r"^(?:the\s+)?(.+?)(?:\s+(?:line|sentence|bit|part))?$", r"\1", match.group("x"))
    found = resolve_variable(phrase, state.catalog)
    if found is None or found[0] == "missing":
        return None
    name = found[1]

    def unmention(state: st.State) -> Outcome:
        if name in state.mentions:
            state.mentions.remove(name)
        if name not in state.blocked:
            state.blocked.append(name)
        return Outcome(done=[f"stopped using their {st.humanise(name)}"])

    return unmention


STYLE_TERMS: tuple[tuple[str, str], ...] = (
    ("casual", r"less formal|more casual|more relaxed|more informal|friendlier|more friendly|warmer|"
               r"more warm|more personal|more fun|more playful|more enthusiastic|more exciting|more upbeat|"
               r"lighter|casual|"
               r"relaxed|informal|friendly|warm|fun|playful|enthusiastic|exciting|upbeat|chatty"),
    ("formal", r"less casual|less friendly|more formal|more professional|more serious|more polite|formal|"
               r"professional|serious|polite|businesslike"),
    ("shorter", r"more concise|less wordy|fewer words|cut it down|trim it|shorter|shorten|concise|briefer|"
                r"brief|"
                r"tighter|too long|short"),
    ("longer", r"more detail(?:ed|s)?|more words|too short|longer|lengthen|expand|elaborate|detailed|fuller"),
)  # fmt: skip
_STYLE_RE = re.compile(
    "|".join(rf"(?P<{name}>\b(?:{terms})\b)" for name, terms in STYLE_TERMS), re.IGNORECASE
)
_STYLE_FILLER = frozenset(
    "make it the email a an bit little lot much way tone more please be keep sound write in and too slightly "
    "somewhat even tad so use voice style quite very can you could should we i want would like let's overall "
    "copy text message whole thing again now little its it's a touch notch".split()
)


def style_terms(text: str) -> list[str]:
    """The length and register changes asked for, in order: "shorter and more formal" → [shorter, formal]."""
    return [match.lastgroup for match in _STYLE_RE.finditer(text) if match.lastgroup]


def parse_style(text: str, links: list[str], state: st.State, *, partial: bool = False) -> Command | None:
    """ "shorter and more formal". With `partial`, "shorter for mobile" does the part it understands."""
    terms = style_terms(text)
    leftover = [w for w in re.findall(r"[\w']+", _STYLE_RE.sub(" ", text.lower())) if w not in _STYLE_FILLER]
    if not terms or (leftover and not partial):
        return None

    def restyle(state: st.State) -> Outcome:
        outcome = Outcome(unknown=[" ".join(leftover)] if leftover else [])
        for term in dict.fromkeys(terms):
            outcome.add(STYLE_COMMANDS[term](state))
        return outcome

    return restyle


def _paragraphs(state: st.State) -> str:
    count = len(st.layout(state)[0])
    word = ("one", "two", "three", "four", "five", "six")[count - 1] if count <= 6 else str(count)
    return f"{word} paragraph" if count == 1 else f"{word} paragraphs"


def _shorter(state: st.State) -> Outcome:
    if state.length <= st.MIN_LENGTH:
        return Outcome(notes=["It's already as short as I can make it without dropping your points."])
    state.length -= 1
    return Outcome(done=[f"made it shorter ({_paragraphs(state)})"])


def _longer(state: st.State) -> Outcome:
    if state.length >= st.MAX_LENGTH:
        return Outcome(
            notes=[
                "The offline composer can't make it longer without inventing details: "
                "tell me what to add (e.g. “mention that …”)."
            ]
        )
    state.length += 1
    added = " with a general paragraph — adjust it to your details" if state.length > 0 else ""
    return Outcome(done=[f"made it longer ({_paragraphs(state)}){added}"])


def _formal(state: st.State) -> Outcome:
    if not state.shift_register(-1):
        return Outcome(notes=["It's already formal."])
    return Outcome(
        done=["made the tone more formal" if state.register == "formal" else "made the tone less casual"]
    )


def _casual(state: st.State) -> Outcome:
    if not state.shift_register(+1):
        return Outcome(notes=["It's already as casual as I write."])
    return Outcome(
        done=["made the tone friendlier" if state.register == "casual" else "made the tone less formal"]
    )


STYLE_COMMANDS: dict[str, Command] = {
    "shorter": _shorter,
    "longer": _longer,
    "formal": _formal,
    "casual": _casual,
}
