"""The composer's own sentences around the user's points: openers, closings, the company line, preheaders.

Chosen by what the email does (its intent), whom it is for (the persona's
audience) and the register. None of them states a fact about the product:
the user's words carry the facts, these only frame them.
"""

from __future__ import annotations

import re

from tidings.drafts.composer_mjml import Run, Var


def _by_register(formal: str, neutral: str, casual: str | None = None) -> dict[str, str]:
    return {"formal": formal, "neutral": neutral, "casual": neutral if casual is None else casual}


# Said around the user's points, by audience. Never a claim about the
# product: the user's own words carry the facts.
OPENERS = {
    "valued": _by_register(
        "As one of our most valued customers, we wanted to share this with you personally.",
        "As one of our most valued customers, we wanted to share this with you personally.",
        "You're one of our most valued customers, so we wanted you to hear this from us personally.",
    ),
    "new": _by_register(
        "As you have only just joined us, we wanted to make sure you do not miss this.",
        "Since you've only just joined us, we wanted to make sure you don't miss this.",
        "You've only just joined us, so we didn't want you to miss this!",
    ),
    "welcome": _by_register(
        "We are delighted to have you with us.", "We're so glad you're here.", "We're so happy you're here!"
    ),
    "lapsed": _by_register(
        "It has been a while, and we have missed you.",
        "We miss you — it's been a while.",
        "We miss you! It's been way too long.",
    ),
}
# A welcome's opener follows the first point ("Welcome to Acme. We're so glad you're here.").
OPENER_AFTER = frozenset({"welcome"})

_REPLY = _by_register(
    "If you have any questions, please reply to this email.",
    "If you have any questions, just reply to this email.",
    "Questions? Just hit reply.",
)
CLOSINGS = {
    "offer": _by_register(
        "We hope you will make the most of it.",
        "Make the most of it while it lasts.",
        "Grab it while it lasts!",
    ),
    "announce": _by_register(
        "We look forward to hearing what you think.",
        "We'd love to hear what you think — just reply to this email.",
        "Let us know what you think — just hit reply!",
    ),
    "invite": _by_register(
        "We look forward to welcoming you.", "We hope to see you there.", "Hope to see you there!"
    ),
    "thank": _by_register(
        "Thank you again for your trust in {p}.",
        "Thank you again for being part of {p}.",
        "Thanks again for being part of {p}!",
    ),
    "welcome": _by_register(
        "If you have any questions, please do not hesitate to reply to this email.",
        "If you have any questions, just reply to this email — we're always happy to help.",
        "Questions? Just hit reply — we're always happy to help!",
    ),
    "apologise": _by_register(
        "Thank you for your patience and understanding.",
        "Thank you for your patience and understanding.",
        "Thanks so much for bearing with us.",
    ),
    "ask": _by_register(
        "Thank you in advance for your time.", "Thanks in advance — it really helps.", "Thanks a ton!"
    ),
    "general": _REPLY,
}
CLOSING_BY_INTENT = {"introduce": "announce", "promote": "announce", "remind": "general"}
AUDIENCE_CLOSINGS = {
    "valued": _by_register(
        "Thank you for your continued loyalty.",
        "Thank you for being such a loyal customer.",
        "Thanks for being such a loyal customer!",
    ),
    "lapsed": _by_register(
        "We would be delighted to welcome you back.",
        "We'd love to see you again soon.",
        "Come back soon — we'd love to see you!",
    ),
    "business": _by_register(
        "Our team is happy to answer any questions — simply reply to this email.",
        "Our team is happy to answer any questions — just reply to this email.",
    ),
}
# The extra paragraph "longer" adds: general enough to be true of any business.
EXTRAS = {
    "offer": _by_register(
        "Whether you have had your eye on something for a while or simply want to try something new, "
        "now is an excellent time.",
        "Whether you've had your eye on something for a while or just want to try something new, "
        "now is a great time.",
    ),
    "announce": _by_register(
        "We have put a great deal of care into this, and we believe it will make a real difference for you.",
        "We've put a lot of care into this, and we think it will make a real difference for you.",
        "We've poured a lot of love into this, and we think you're going to like it.",
    ),
    "invite": _by_register(
        "Please feel free to bring your questions; we would be glad to hear from you.",
        "Bring your questions — we'd love to hear from you.",
    ),
    "remind": _by_register(
        "If you have already taken care of this, thank you, and please disregard this message.",
        "If you've already taken care of this, thank you — you can ignore this message.",
        "Already done? Then thank you — you can ignore this one.",
    ),
    "thank": _by_register(
        "None of this would be possible without customers like you.",
        "None of this would be possible without customers like you.",
        "Honestly, none of this would be possible without you.",
    ),
    "welcome": _by_register(
        "Please take a look around, and do not hesitate to contact us if anything is unclear.",
        "Take a look around, and don't hesitate to reach out if anything is unclear.",
        "Have a look around and make yourself at home.",
    ),
    "apologise": _by_register(
        "We take this very seriously and are committed to doing better.",
        "We take this seriously, and we're working hard to do better.",
    ),
    "ask": _by_register(
        "Every response helps us improve {p} for you.", "Every answer helps us make {p} better for you."
    ),
    "lapsed": _by_register(
        "A great deal has happened since your last visit, and we believe you will like what you find.",
        "A lot has happened since your last visit, and we think you'll like what you find.",
    ),
    "general": _by_register(
        "As always, we are here if you need anything.", "As always, we're here if you need anything."
    ),
}
EXTRA_BY_INTENT = {"introduce": "announce", "promote": "announce"}

# One sentence that uses a catalog variable; {v} marks where it goes.
# The company sentence by what the email does, so it reads naturally in a reminder as in a sale.
COMPANY_LINES = {
    "general": _by_register(
        "We wanted to make sure {v} heard this from us directly.",
        "We wanted to make sure {v} heard this from us directly.",
    ),
    "invite": _by_register(
        "You are very welcome to bring colleagues from {v}.", "Feel free to bring colleagues from {v}."
    ),
    "remind": _by_register(
        "We want to make sure nothing slips through the cracks for {v}.",
        "We want to make sure nothing slips through the cracks for {v}.",
    ),
    "thank": _by_register(
        "Everyone here values working with {v}.", "Everyone here appreciates working with {v}."
    ),
    "welcome": _by_register("We are delighted to have {v} on board.", "We're excited to have {v} on board."),
    "ask": _by_register(
        "The perspective of {v} would mean a great deal to us.",
        "Hearing how {v} sees it would mean a lot to us.",
    ),
    "apologise": _by_register(
        "We know how important this is for {v}.", "We know how important this is for {v}."
    ),
    "lapsed": _by_register("We would love to welcome {v} back.", "We'd love to welcome {v} back."),
}
PERSONAL_LINES = {
    "company": _by_register(
        "We have prepared this with {v} in mind.",
        "We put this together with {v} in mind.",
        "We think {v} will love this.",
    ),
    "city": _by_register("We hope all is well in {v}.", "We hope all is well in {v}."),
    "country": _by_register("We hope all is well in {v}.", "We hope all is well in {v}."),
    "plan": _by_register("You are currently on the {v} plan.", "You're currently on the {v} plan."),
}
GENERIC_PERSONAL_LINE = "Your {label}: {v}."
# Fields that fit a sentence without being asked for, in order of preference.
AUTO_PERSONAL = ("company", "city", "country", "plan")

PREHEADERS = {
    "announce": "Here's what's new at {p}.",
    "introduce": "Here's what's new at {p}.",
    "promote": "Here's what's new at {p}.",
    "offer": "Make the most of it while it lasts.",
    "invite": "We'd love to see you there.",
    "remind": "A quick reminder from {p}.",
    "thank": "A thank-you from everyone at {p}.",
    "welcome": "We're glad you're here.",
    "apologise": "A note from the {p} team.",
    "ask": "Your input helps us improve.",
    "general": "The latest from {p}.",
}
PREHEADER_TAILS = {
    "valued": "Thank you for being one of our most valued customers.",
    "lapsed": "We'd love to have you back.",
    "new": "We're glad you're here.",
}
DEADLINE_RE = re.compile(
    r"\b(?:until|till|through|thru|ends?|ending|by|before|expires?)\s+(?:on\s+)?(?P<d>"
    r"the\s+end\s+of\s+\w+|tomorrow|tonight|midnight|today|this\s+\w+|next\s+\w+|"
    r"(?:mon|tues|wednes|thurs|fri|satur|sun)day|"
    r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s+\d{1,2}(?:st|nd|rd|th)?(?:,?\s+\d{4})?|"
    r"\d{1,2}(?:st|nd|rd|th)?\s+(?:of\s+)?(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*(?:\s+\d{4})?|"
    r"\d{1,4}[./-]\d{1,2}(?:[./-]\d{2,4})?)",
    re.IGNORECASE,
)


def personal_line(
    variable: str,
    label: str,
    default: str,
    register: str,
    *,
    intent: str = "general",
    audience: str = "general",
) -> list[Run]:
    """One sentence using a catalog variable, as runs of text and the variable."""
    key = variable.rsplit(".", 1)[-1]
    company_key = "lapsed" if audience == "lapsed" else intent
    if key == "company" and company_key in COMPANY_LINES:
        template = COMPANY_LINES[company_key][register]
    else:
        template = PERSONAL_LINES[key][register] if key in PERSONAL_LINES else GENERIC_PERSONAL_LINE
    before, _, after = template.replace("{label}", label).partition("{v}")
    return [before, Var(variable, default), after]


def closing_lines(intent: str, offer: bool, audience: str, register: str, project: str) -> list[str]:
    """The closing paragraph: one line for what the email does, one for whom it is for."""
    if audience == "new" and intent != "thank":
        key = "welcome"
    elif audience == "business" and intent in ("general", "remind"):
        return [AUDIENCE_CLOSINGS["business"][register]]
    else:
        key = "offer" if offer and intent in ("announce", "promote", "general") else intent
        key = CLOSING_BY_INTENT.get(key, key)
    lines = [CLOSINGS.get(key, CLOSINGS["general"])[register].format(p=project)]
    if audience in ("valued", "lapsed") and intent != "thank":
        lines.append(AUDIENCE_CLOSINGS[audience][register])
    return lines


def extra_paragraph(intent: str, offer: bool, audience: str, register: str, project: str) -> str:
    """The paragraph "longer" adds: general, so it cannot state anything untrue about the product."""
    key = (
        "lapsed"
        if audience == "lapsed"
        else "offer"
        if offer and intent in ("announce", "promote")
        else intent
    )
    key = EXTRA_BY_INTENT.get(key, key)
    return EXTRAS.get(key, EXTRAS["general"])[register].format(p=project)


def preheader_line(*, intent: str, offer: bool, audience: str, text: str, project: str) -> str:
    """A preheader when the prompt has no second point: a deadline if there is one, else the intent's."""
    deadline = DEADLINE_RE.search(text)
    thing = re.search(r"\b(sale|offer|deal|discount|promotion|promo)\b", text, re.IGNORECASE)
    if offer and deadline:
        core = f"Don't wait: the {thing.group(1).lower() if thing else 'offer'} ends {deadline.group('d')}."
    else:
        key = "offer" if offer and intent in ("announce", "promote") else intent
        core = PREHEADERS.get(key, PREHEADERS["general"]).format(p=project)
    tail = PREHEADER_TAILS.get(audience, "")
    return core if not tail or tail == core else f"{core} {tail}"
