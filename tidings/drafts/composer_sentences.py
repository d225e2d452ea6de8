"""What the composer says for each kind of point, in each register, and the subject line it gives.

Data, not logic: composer_text decides which kind a sentence of the prompt
is, and these tables word it. Formal avoids contractions; casual allows an
exclamation mark (removed again if the brand forbids them).
"""

from __future__ import annotations

from dataclasses import dataclass

REGISTERS = ("formal", "neutral", "casual")


def cap(text: str) -> str:
    """Upper-case the first letter, leaving the rest (product names, acronyms) as written."""
    for i, char in enumerate(text):
        if char.isalpha():
            return text[:i] + char.upper() + text[i + 1 :]
        if not char.isspace() and char not in "\"'“‘(":
            return text
    return text


@dataclass(frozen=True)
class Idea:
    """One point of the email: a sentence kind (a key of SENTENCES) and the user's words for it."""

    kind: str
    slot: str
    subject: str  # the subject line this idea gives when it leads the email

    def text(self, register: str) -> str:
        """The reader-facing sentence in the given register."""
        template = SENTENCES.get(self.kind, SENTENCES["text"])[register]
        return template.format(x=self.slot, X=cap(self.slot))

    def to_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "slot": self.slot, "subject": self.subject}


def _same(text: str) -> dict[str, str]:
    return dict.fromkeys(REGISTERS, text)


# Reader-facing sentences by kind and register.
SENTENCES: dict[str, dict[str, str]] = {
    "text": _same("{X}"),
    "announced": _same("{X}"),  # "Our spring sale is here: …", worded when it was read
    "announce": {
        "formal": "We are pleased to announce {x}.",
        "neutral": "We're happy to announce {x}.",
        "casual": "We're so excited to announce {x}!",
    },
    "announce_that": {
        "formal": "We are pleased to share that {x}.",
        "neutral": "We're happy to share that {x}.",
        "casual": "Great news: {x}!",
    },
    "introduce": {
        "formal": "Allow us to introduce {x}.",
        "neutral": "Meet {x}.",
        "casual": "Say hello to {x}!",
    },
    "invite": {
        "formal": "We cordially invite you {x}.",
        "neutral": "You're invited {x}.",
        "casual": "You're invited {x}!",
    },
    "remind_that": {
        "formal": "We would like to remind you that {x}.",
        "neutral": "A quick reminder: {x}.",
        "casual": "Just a quick reminder: {x}!",
    },
    "remind_about": {
        "formal": "We would like to remind you of {x}.",
        "neutral": "A quick reminder about {x}.",
        "casual": "Just a heads-up about {x}!",
    },
    "remind_to": {
        "formal": "We would like to remind you to {x}.",
        "neutral": "A quick reminder to {x}.",
        "casual": "Don't forget to {x}!",
    },
    "thank": {
        "formal": "Thank you sincerely for {x}.",
        "neutral": "Thank you for {x}.",
        "casual": "Thanks so much for {x}!",
    },
    "thank_plain": {
        "formal": "We would like to thank you for being part of {x}.",
        "neutral": "Thank you for being part of {x}.",
        "casual": "Thanks so much for being part of {x}!",
    },
    "welcome": {"formal": "Welcome to {x}.", "neutral": "Welcome to {x}.", "casual": "Welcome to {x}!"},
    "tell_about": {
        "formal": "We would like to tell you about {x}.",
        "neutral": "We'd love to tell you about {x}.",
        "casual": "We can't wait to tell you about {x}!",
    },
    "note": {
        "formal": "Please also note: {x}.",
        "neutral": "Also good to know: {x}.",
        "casual": "Oh, and: {x}!",
    },
    "update": {
        "formal": "Here is an update on {x}.",
        "neutral": "Here's an update on {x}.",
        "casual": "Here's the latest on {x}.",
    },
    "promote": {
        "formal": "We would like to draw your attention to {x}.",
        "neutral": "Take a look at {x}.",
        "casual": "Check out {x}!",
    },
    "promote_offer": {
        "formal": "Do not miss {x}.",
        "neutral": "Don't miss {x}.",
        "casual": "Don't miss {x}!",
    },
    "ask_to": {
        "formal": "Would you kindly take a moment to {x}?",
        "neutral": "Could you take a moment to {x}?",
        "casual": "Got a minute? We'd love it if you could {x}.",
    },
    "ask_for": {
        "formal": "We would greatly appreciate {x}.",
        "neutral": "We'd love {x}.",
        "casual": "We'd love {x}!",
    },
    "ask_know": {
        "formal": "We would like to know {x}.",
        "neutral": "We'd love to know {x}.",
        "casual": "We'd love to know {x}!",
    },
    "encourage": {"formal": "We encourage you to {x}.", "neutral": "Why not {x}?", "casual": "Why not {x}?"},
    "offer": {
        "formal": "We are pleased to offer you {x}.",
        "neutral": "We'd like to offer you {x}.",
        "casual": "Here's a treat for you: {x}!",
    },
    "give": {
        "formal": "We are pleased to give you {x}.",
        "neutral": "We're giving you {x}.",
        "casual": "We're giving you {x}!",
    },
    "apologise": {
        "formal": "We sincerely apologise for {x}.",
        "neutral": "We're sorry for {x}.",
        "casual": "We're really sorry about {x}.",
    },
    "apologise_that": {
        "formal": "We sincerely apologise that {x}.",
        "neutral": "We're sorry that {x}.",
        "casual": "We're really sorry that {x}.",
    },
    "congratulate": {
        "formal": "Congratulations on {x}.",
        "neutral": "Congratulations on {x}!",
        "casual": "Congrats on {x}!",
    },
    "share": {
        "formal": "We would like to share {x} with you.",
        "neutral": "We'd like to share {x} with you.",
        "casual": "We're excited to share {x} with you!",
    },
    "wish": {"formal": "We wish you {x}.", "neutral": "We wish you {x}.", "casual": "Wishing you {x}!"},
    "celebrate": {
        "formal": "We are celebrating {x}.",
        "neutral": "We're celebrating {x}.",
        "casual": "We're celebrating {x}!",
    },
    "recommend": {
        "formal": "We would recommend {x}.",
        "neutral": "We think you'll love {x}.",
        "casual": "We think you'll love {x}!",
    },
    "preview": {
        "formal": "Here is a first look at {x}.",
        "neutral": "Here's a sneak peek at {x}.",
        "casual": "Here's a sneak peek at {x}!",
    },
    "recap": {
        "formal": "Here is a summary of {x}.",
        "neutral": "Here's a quick recap of {x}.",
        "casual": "Here's a quick recap of {x}.",
    },
    "explain": {"formal": "Here is {x}.", "neutral": "Here's {x}.", "casual": "Here's {x}."},
    "fallback": _same("Here's the latest from {x}."),
}

# Subject lines by kind; {x} is the user's words, {X} the same capitalised.
SUBJECTS: dict[str, str] = {
    "announce_that": "{X}",
    "introduce": "Meet {x}",
    "invite": "You're invited {x}",
    "remind_that": "Reminder: {x}",
    "remind_about": "Reminder: {x}",
    "remind_to": "Reminder: {x}",
    "thank": "Thank you for {x}",
    "thank_plain": "Thank you for being part of {x}",
    "welcome": "Welcome to {x}",
    "tell_about": "{X}",
    "note": "{X}",
    "update": "An update on {x}",
    "promote": "{X}",
    "promote_offer": "Don't miss {x}",
    "ask_to": "Could you {x}?",
    "ask_for": "We'd love {x}",
    "ask_know": "We'd love to know {x}",
    "encourage": "Why not {x}?",
    "offer": "{X}, just for you",
    "give": "{X}, just for you",
    "apologise": "We're sorry for {x}",
    "apologise_that": "We're sorry that {x}",
    "congratulate": "Congratulations on {x}",
    "share": "{X}",
    "wish": "Wishing you {x}",
    "celebrate": "We're celebrating {x}",
    "recommend": "We think you'll love {x}",
    "preview": "A sneak peek at {x}",
    "recap": "A quick recap of {x}",
    "explain": "{X}",
    "fallback": "News from {x}",
    "text": "{X}",
}

# The intent an idea gives the whole email (labels, closings, the reply).
INTENTS: dict[str, str] = {
    "announce": "announce",
    "announced": "announce",
    "announce_that": "announce",
    "introduce": "introduce",
    "invite": "invite",
    "remind_that": "remind",
    "remind_about": "remind",
    "remind_to": "remind",
    "thank": "thank",
    "thank_plain": "thank",
    "welcome": "welcome",
    "promote": "promote",
    "promote_offer": "promote",
    "offer": "promote",
    "give": "promote",
    "ask_to": "ask",
    "ask_for": "ask",
    "ask_know": "ask",
    "apologise": "apologise",
    "apologise_that": "apologise",
}
