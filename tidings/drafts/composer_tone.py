"""Tone: what the persona and the brand notes say about wording; greetings and sign-offs.

Two independent axes. The *audience* (valued, new, lapsed, business or
general) comes from the persona's name and decides what the email says
around the user's points (composer_phrases). The *register* (formal,
neutral, casual) decides how it says it, and follow-ups move it. Greeting
and sign-off follow the audience's language; the body stays in the
prompt's language, because the offline composer cannot translate.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tidings.drafts.composer_mjml import Run, Var
from tidings.drafts.composer_text import plain

if TYPE_CHECKING:
    from tidings.drafts.composer import PersonaCues

# Checked in order against a tag's or segment's name: "inactive VIPs" are lapsed first.
AUDIENCE_CUES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (audience, re.compile(pattern))
    for audience, pattern in (
        (
            "lapsed",
            r"\b(churn\w*|inactive|lapsed|dormant|win ?back|re ?engage\w*|at ?risk|cold|lost|former)\b",
        ),
        (
            "valued",
            r"\b(vips?|premium|gold|platinum|diamond|loyal\w*|top|best|high ?value|ambassadors?|elite)\b",
        ),
        (
            "new",
            r"\b(new|trials?|trialists?|sign ?ups?|signed ?up|welcome|onboard\w*|newcomers?|"
            r"first ?time\w*)\b",
        ),
        (
            "business",
            r"\b(b2b|enterprise|partners?|corporate|business(es)?|wholesale|resellers?|agenc(y|ies))\b",
        ),
    )
)
AUDIENCE_TONES = {"valued": "appreciative", "new": "welcoming", "lapsed": "we-miss-you", "business": "formal"}
LANGUAGES = {
    "de": "German",
    "fr": "French",
    "es": "Spanish",
    "nl": "Dutch",
    "it": "Italian",
    "pt": "Portuguese",
}
ENGLISH = "en"

# language → register → (greeting with a name, greeting without one, the word for "there").
GREETINGS: dict[str, dict[str, tuple[str, str, str]]] = {
    "en": {
        "formal": ("Hello {name},", "Dear customer,", "there"),
        "neutral": ("Hi {name},", "Hello,", "there"),
        "casual": ("Hey {name},", "Hi there,", "there"),
    },
    "de": {
        "formal": ("Guten Tag {name},", "Guten Tag,", "zusammen"),
        "neutral": ("Hallo {name},", "Hallo,", "zusammen"),
        "casual": ("Hi {name},", "Hallo zusammen,", "zusammen"),
    },
    "fr": {
        "formal": ("Bonjour {name},", "Madame, Monsieur,", "à tous"),
        "neutral": ("Bonjour {name},", "Bonjour,", "à tous"),
        "casual": ("Salut {name},", "Salut à tous,", "à tous"),
    },
    "es": {
        "formal": ("Buenos días {name},", "Buenos días,", "a todos"),
        "neutral": ("Hola {name},", "Hola,", "a todos"),
        "casual": ("Hola {name},", "Hola a todos,", "a todos"),
    },
    "nl": {
        "formal": ("Beste {name},", "Geachte heer/mevrouw,", "allemaal"),
        "neutral": ("Hallo {name},", "Hallo,", "allemaal"),
        "casual": ("Hoi {name},", "Hoi allemaal,", "allemaal"),
    },
    "it": {
        "formal": ("Gentile {name},", "Gentile cliente,", "cliente"),
        "neutral": ("Buongiorno {name},", "Buongiorno,", "a tutti"),
        "casual": ("Ciao {name},", "Ciao a tutti,", "a tutti"),
    },
    "pt": {
        "formal": ("Prezado(a) {name},", "Prezado(a) cliente,", "cliente"),
        "neutral": ("Olá {name},", "Olá,", "a todos"),
        "casual": ("Oi {name},", "Oi, pessoal,", "pessoal"),
    },
}
SIGN_OFFS: dict[str, dict[str, str]] = {
    "en": {"formal": "Kind regards", "neutral": "Best wishes", "casual": "Cheers"},
    "de": {"formal": "Mit freundlichen Grüßen", "neutral": "Viele Grüße", "casual": "Liebe Grüße"},
    "fr": {"formal": "Cordialement", "neutral": "Bien à vous", "casual": "À bientôt"},
    "es": {"formal": "Atentamente", "neutral": "Un saludo", "casual": "Un abrazo"},
    "nl": {"formal": "Met vriendelijke groet", "neutral": "Hartelijke groet", "casual": "Groetjes"},
    "it": {"formal": "Cordiali saluti", "neutral": "Un caro saluto", "casual": "A presto"},
    "pt": {"formal": "Atenciosamente", "neutral": "Saudações", "casual": "Um abraço"},
}
SIGNATURES = {
    "en": "The {p} team",
    "de": "Ihr {p}-Team",
    "fr": "L'équipe {p}",
    "es": "El equipo de {p}",
    "nl": "Het {p}-team",
    "it": "Il team di {p}",
    "pt": "A equipe {p}",
}


@dataclass(frozen=True)
class PersonaTone:
    """What a persona says about wording."""

    audience: str  # general | valued | new | lapsed | business
    register: str  # formal | neutral | casual
    language: str  # en, or a key of LANGUAGES


@dataclass(frozen=True)
class BrandCues:
    """What a project's brand notes say, where the composer recognises it."""

    register: str | None = None
    no_exclaim: bool = False
    signature: str = ""
    accent: str = ""


def audience_of(words: str) -> str:
    """The audience a name speaks of: "VIP customers" → valued, "win-back Q3" → lapsed."""
    spaced = re.sub(r"([a-z])([A-Z])", r"\1 \2", words)
    normal = re.sub(r"[^a-z0-9]+", " ", spaced.lower())
    for audience, pattern in AUDIENCE_CUES:
        if pattern.search(normal):
            return audience
    return "general"


def audience_of_business(words: str) -> bool:
    """True when a name speaks of businesses, whatever else it says."""
    return bool(dict(AUDIENCE_CUES)["business"].search(re.sub(r"[^a-z0-9]+", " ", words.lower())))


def persona_tone(persona: PersonaCues) -> PersonaTone:
    """Audience, register and greeting language for a persona; a contact's values only pick wording."""
    if persona.type == "contact":
        audience = "general"
        register = "formal" if persona.values.get("company", "").strip() else "neutral"
        language = persona.values.get("language", "")
    elif persona.type in ("tag", "segment"):
        audience = audience_of(persona.name)
        # "b2b VIPs" are valued, and still addressed formally.
        register = "formal" if audience == "business" or audience_of_business(persona.name) else "neutral"
        language = persona.dominant.get("language", "")
    else:
        audience, register, language = "general", "neutral", ""
    code = language.strip().lower()[:2]
    return PersonaTone(audience, register, code if code in LANGUAGES else ENGLISH)


def brand_cues(notes: str) -> BrandCues:
    """Register, "no exclamation marks", "sign as …" and a brand colour from free-text brand notes."""
    text = notes.lower()
    casual = bool(re.search(r"\b(?:not|never|no|less|un)\s*(?:too\s+|very\s+|overly\s+)?formal", text))
    text_wo_negation = re.sub(r"\b(?:not|never|no|less)\s+(?:too\s+|very\s+|overly\s+)?formal\w*", "", text)
    formal = bool(re.search(r"\b(formal|professional|serious|corporate|businesslike)\b", text_wo_negation))
    casual = casual or bool(
        re.search(
            r"\b(friendly|casual|warm|relaxed|informal|conversational|playful|fun|cheerful|upbeat)\b", text
        )
    )
    register = "neutral" if formal and casual else "formal" if formal else "casual" if casual else None
    accent = re.search(r"#(?:[0-9a-f]{6}|[0-9a-f]{3})\b", text)
    return BrandCues(
        register=register,
        no_exclaim=bool(NO_EXCLAIM_RE.search(notes)),
        signature=signature_in(notes),
        accent=accent.group() if accent else "",
    )


NO_EXCLAIM_RE = re.compile(
    r"\b(?:no|without|avoid|never use|don't use|do not use|zero|remove|drop|lose|stop using)\s+"
    r"(?:any\s+|the\s+|all\s+)?exclamation",
    re.IGNORECASE,
)
_SIGN_RE = re.compile(
    r"\bsign(?:ed|ing)?(?:\s+(?:off|it|emails?|messages?))*\s+(?:as|with|by|from)\s*:?\s*"
    r"(?:[\"“'](?P<q>[^\"”']{1,80})[\"”']|(?P<x>[^\"”\n.;,!?]{1,80}))",
    re.IGNORECASE,
)


def signature_in(text: str) -> str:
    """The name after "sign as" / "sign off with" / "signed by", or ""."""
    match = _SIGN_RE.search(text)
    if not match:
        return ""
    name = plain(match.group("q") or match.group("x") or "")
    return re.sub(r"\s+(?:and|but|please)\b.*$", "", name, flags=re.IGNORECASE).strip()


def greeting(language: str, register: str, name_default: str | None) -> list[Run]:
    """The greeting, with the first name when the catalog has it (its default translated if it is "there")."""
    with_name, nameless, there = GREETINGS[language][register]
    if name_default is None or not name_default.strip():
        return [nameless]
    default = there if name_default.strip().lower() == "there" else name_default
    before, _, after = with_name.partition("{name}")
    return [before, Var("firstName", default), after]


def sign_off(language: str, register: str) -> str:
    """The closing words before the signature ("Best wishes", "Viele Grüße")."""
    return SIGN_OFFS[language][register]


def default_signature(language: str, project: str) -> str:
    """ "The Acme team", in the greeting's language."""
    return SIGNATURES[language].format(p=project)
