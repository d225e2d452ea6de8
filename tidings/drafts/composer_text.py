"""Reading a prompt: its sentences, and instructions turned into sentences for the reader.

The offline composer has no language model, so it works from patterns. A
prompt is written *to* the composer ("announce our spring sale with 20%
off"); the email speaks *to the reader* ("Our spring sale is here, with 20%
off."). Each recognised instruction becomes an `Idea`: a sentence kind plus
the user's own words, so the wording can follow the tone when a follow-up
changes it, while numbers, dates, names and links pass through untouched.
Anything not recognised is kept as the user wrote it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tidings.drafts.composer_links import MASK_RE, is_link_only, mask_links, strip_link_wrappers, unmask
from tidings.drafts.composer_sentences import SUBJECTS, Idea, cap

MAX_IDEAS = 8
SUBJECT_MAX = 78
PREHEADER_MAX = 110

_OFFER_RE = re.compile(
    r"\b(?:sales?|discounts?|deals?|promo(?:tion)?s?|coupons?|clearance|bogo|black friday|cyber monday|"
    r"free shipping|special offers?|limited[- ]time offers?|(?:this|the|our) offer|offer ends|save up to|"
    r"save \d+)\b|\d+\s?%\s*off\b|\bpercent off\b",
    re.IGNORECASE,
)
_CODE_RE = re.compile(r"\bcode\s+[A-Z0-9]{3,}\b")  # "use code BF40"; case-sensitive on purpose


def is_offer(text: str) -> bool:
    """True when a text speaks of a sale, a discount or a promo code."""
    return bool(_OFFER_RE.search(text) or _CODE_RE.search(text))


# Who the instruction is about: "them", "our VIP customers", "all new users"…
_AUD_NOUNS = (
    r"(?:customers?|users?|subscribers?|members?|clients?|readers?|contacts?|audience|community|list|fans|"
    r"followers|vips?|guests?|attendees?|leads?|partners?|buyers?|shoppers?|donors?|students?|patients?|"
    r"visitors?|people|folks|everyone|everybody|recipients?|newcomers|sign-?ups)"
)
AUD = (
    rf"(?:them|him|her|you|everyone|everybody|(?:(?:all|each|every)\s+(?:of\s+)?)?"
    rf"(?:(?:our|the|my|your|these|those)\s+)?(?:[\w-]+\s+){{0,2}}{_AUD_NOUNS}\b)"
)

# Instructions to the composer, tried in order on a sentence stripped of
# "please", "can you" and "write an email that…". Group x is the payload.
_VERBS: tuple[tuple[str, str], ...] = (
    (rf"(?:announce|share|reveal)\s+(?:to\s+{AUD}\s+)?that\s+(?P<x>.+)", "announce_that"),
    (rf"(?:announce|launch|unveil|reveal)\s+(?:to\s+{AUD}\s+)?(?P<x>.+)", "announce"),
    (rf"introduce\s+(?:{AUD}\s+to\s+)?(?P<x>.+)", "introduce"),
    (rf"invite\s+(?:{AUD}\s+)?(?P<x>(?:to|for|on)\s+.+)", "invite"),
    (rf"remind\s+(?:{AUD}\s+)?that\s+(?P<x>.+)", "remind_that"),
    (rf"remind\s+(?:{AUD}\s+)?(?:about|of)\s+(?P<x>.+)", "remind_about"),
    (rf"remind\s+(?:{AUD}\s+)?to\s+(?P<x>.+)", "remind_to"),
    (rf"remind\s+(?:{AUD}\s+)?(?P<x>.+)", "remind_that"),
    (rf"(?:say\s+)?(?:thank|thanks|thank you)\s+(?:to\s+)?(?:{AUD}\s*)?(?:for\s+(?P<x>.+))?", "thank"),
    (rf"welcome\s+(?:{AUD}\s*)?(?:to\s+(?P<x>.+))?", "welcome"),
    (rf"(?:tell|inform|notify|let|show)\s+(?:{AUD}\s+)?(?:know\s+)?that\s+(?P<x>.+)", "text"),
    (
        rf"(?:tell|inform|notify|let)\s+(?:{AUD}\s+)?(?:know\s+)?(?:about|of|regarding)\s+(?P<x>.+)",
        "tell_about",
    ),
    (rf"(?:update|brief)\s+(?:{AUD}\s+)?(?:on|about)\s+(?P<x>.+)", "update"),
    (rf"give\s+{AUD}\s+an?\s+update\s+(?:on|about)\s+(?P<x>.+)", "update"),
    (rf"(?:tell|let\s+{AUD}\s+know)\s+(?:{AUD}\s+)?(?P<x>.+)", "text"),
    (r"explain\s+(?P<x>(?:how|why|what|where|when)\s+.+)", "explain"),
    (
        r"(?:mention|say|state|note|point out|explain|emphasi[sz]e|stress|clarify|confirm|add|"
        r"make (?:it )?clear)"
        rf"\s+(?:to\s+{AUD}\s+)?that\s+(?P<x>.+)",
        "text",
    ),
    (r"(?:mention|note|point out|add)\s+(?P<x>.+)", "note"),
    (r"(?:promote|advertise|highlight|showcase|feature|push|plug|pitch|spotlight)\s+(?P<x>.+)", "promote"),
    (
        rf"(?:ask|request|get)\s+(?:{AUD}\s+)?(?P<x>(?:whether|if|what|how|which|when|why|where)\s+.+)",
        "ask_know",
    ),
    (rf"(?:ask|request|get)\s+(?:{AUD}\s+)?to\s+(?P<x>.+)", "ask_to"),
    (rf"ask\s+(?:{AUD}\s+)?for\s+(?P<x>.+)", "ask_for"),
    (rf"(?:encourage|urge|nudge|motivate|invite)\s+(?:{AUD}\s+)?to\s+(?P<x>.+)", "encourage"),
    (rf"offer\s+(?:{AUD}\s+)?(?P<x>.+)", "offer"),
    (rf"(?:give|send|grant)\s+{AUD}\s+(?P<x>.+)", "give"),
    (rf"(?:apologi[sz]e|say sorry)\s+(?:to\s+{AUD}\s+)?that\s+(?P<x>.+)", "apologise_that"),
    (rf"(?:apologi[sz]e|say sorry)\s+(?:to\s+{AUD}\s+)?(?:for\s+)?(?P<x>.+)", "apologise"),
    (rf"congratulate\s+(?:{AUD}\s+)?(?:on\s+)?(?P<x>.+)", "congratulate"),
    (rf"share\s+(?:with\s+{AUD}\s+)?(?P<x>.+)", "share"),
    (rf"wish\s+(?:{AUD}\s+)?(?P<x>.+)", "wish"),
    (r"celebrate\s+(?P<x>.+)", "celebrate"),
    (r"(?:recommend|suggest)\s+(?P<x>.+)", "recommend"),
    (r"(?:tease|preview|hint at)\s+(?P<x>.+)", "preview"),
    (r"(?:recap|summari[sz]e)\s+(?P<x>.+)", "recap"),
)
VERBS = tuple((re.compile(rf"^{pattern}$", re.IGNORECASE | re.DOTALL), kind) for pattern, kind in _VERBS)

# "Write a short welcome email to our new users announcing…": what is left
# after the wrapper is an instruction (often a gerund) or a topic.
_EMAIL_WORDS = (
    r"(?:e-?mails?|newsletters?|messages?|mail(?:ing|out|er)?s?|campaigns?|blasts?|notes?|announcements?|"
    r"updates?)"
)
_WRAPPER_RE = re.compile(
    r"^(?P<lead>(?:please\s+)?"
    r"(?:write|draft|create|compose|send|prepare|make|put together|generate|craft|build|do)"
    rf"(?:\s+(?:me|us))?\s+|(?:i|we)\s+(?:want|need|would like|'d like)\s+)?"
    rf"(?P<article>(?:an?|the|our|one|some)\s+)?(?P<kind>(?:[\w-]+\s+){{0,3}}?){_EMAIL_WORDS}\b\s*(?P<rest>.*)$",
    re.IGNORECASE | re.DOTALL,
)
# Without "write…", "An email to our VIPs about X" is a wrapper; "Our newsletter goes out Friday" and
# "Weekly reports by email" are not.
_WRAPPER_REST_RE = re.compile(r"^(?:(?:to|for|about|on|regarding|that|which|who)\s|[:—–-]|\w+ing\b)", re.I)
_LEAD_RE = re.compile(
    r"^(?:(?:please|pls|kindly|ok(?:ay)?|so|now|and|then|also)[,\s]+|"
    r"(?:can|could|would|will)\s+you\s+(?:please\s+)?|"
    r"(?:i|we)(?:'d| would)?\s+(?:want|like|need|wish)\s+(?:you\s+)?to\s+|"
    r"(?:i|we)'d\s+like\s+(?:you\s+)?to\s+|"
    r"(?:i'm|we're|i am|we are)\s+(?:writing|emailing|reaching out)\s+to\s+|"
    r"help\s+(?:me|us)\s+|let's\s+|let us\s+)",
    re.IGNORECASE,
)
_VERB_FORMS = {
    "announcing": "announce", "announces": "announce", "introducing": "introduce", "introduces": "introduce",
    "inviting": "invite", "invites": "invite", "reminding": "remind", "reminds": "remind",
    "thanking": "thank", "thanks": "thank", "welcoming": "welcome", "welcomes": "welcome",
    "telling": "tell", "tells": "tell", "informing": "inform", "informs": "inform",
    "promoting": "promote", "promotes": "promote", "asking": "ask", "asks": "ask",
    "offering": "offer", "offers": "offer", "apologising": "apologise", "apologizing": "apologise",
    "congratulating": "congratulate", "sharing": "share", "shares": "share", "wishing": "wish",
    "celebrating": "celebrate", "celebrates": "celebrate", "highlighting": "highlight",
    "highlights": "highlight",
    "encouraging": "encourage", "encourages": "encourage", "launching": "launch", "launches": "launch",
    "explaining": "explain", "explains": "explain", "giving": "give", "gives": "give", "updating": "update",
    "letting": "let", "lets": "let", "recommending": "recommend", "showcasing": "showcase",
}  # fmt: skip
_DETERMINERS = ("our", "the", "my", "this", "these", "a", "an", "your")
# Things that can be "here" once launched; "the date of the event is here" is wrong.
_LAUNCHABLE = frozenset(
    "sale collection app application feature product release version edition update course plan program "
    "programme menu range line book album podcast episode issue offer deal discount store shop website site "
    "tool dashboard integration service catalog catalogue lineup flavour flavor model card subscription tier "
    "membership season guide report newsletter blog shoe drop look bundle box kit game".split()
)
_SINGULAR_S = frozenset("news series analytics status campus bonus plus access business class pass".split())
_PRONOUNS = (
    (r"\bthey're\b", "you're"), (r"\bthey've\b", "you've"), (r"\bthey'll\b", "you'll"),
    (r"\bthey'd\b", "you'd"),
    (r"\bthey are\b", "you are"), (r"\bthey were\b", "you were"), (r"\bthemselves\b", "yourselves"),
    (r"\bhis or her\b", "your"), (r"\bhim or her\b", "you"), (r"\bhe or she\b", "you"),
    (r"\btheirs\b", "yours"), (r"\btheir\b", "your"), (r"\bthem\b", "you"), (r"\bthey\b", "you"),
)  # fmt: skip
_ABBREVIATIONS = re.compile(
    r"\b(?:e\.g|i\.e|etc|vs|approx|incl|mr|mrs|ms|dr|st|inc|ltd|jan|feb|mar|apr|jun|jul|aug|sept?|oct|nov|dec|"
    r"a\.m|p\.m|u\.s|p\.s)\.",
    re.IGNORECASE,
)


def end_sentence(text: str) -> str:
    """Ensure a sentence ends with a full stop (or keeps its own ! ? …)."""
    text = text.strip()
    return text if not text or text[-1] in ".!?…" else f"{text}."


def second_person(text: str) -> str:
    """ "remind them to renew their plan" speaks of the reader: their → your, them → you."""
    for pattern, repl in _PRONOUNS:
        text = re.sub(pattern, lambda m, r=repl: cap(r) if m.group()[0].isupper() else r, text, flags=re.I)
    return text


def lower_determiner(text: str) -> str:
    """ "Our new app" mid-sentence → "our new app" (only determiners, never names)."""
    first, _, rest = text.partition(" ")
    return f"{first.lower()} {rest}".rstrip() if first.lower() in _DETERMINERS else text


def split_sentences(text: str) -> list[tuple[str, list[str]]]:
    """The prompt's sentences and list items, each with its links masked as \x00<i>\x00 (see composer_links).

    Links and abbreviations are kept whole: a dot in "e.g." or "shop.example.com" ends no sentence.
    """
    masked, links = mask_links(text)
    # \x01 stands for a dot that does not end a sentence.
    masked = _ABBREVIATIONS.sub(lambda m: m.group().replace(".", "\x01"), masked)
    masked = re.sub(r"(?<=\d)\.(?=\d)", "\x01", masked)
    sentences = []
    for line in re.split(r"\n+", masked):
        line = re.sub(r"^\s*(?:[-*•·]|\d{1,2}[.)])\s+", "", line)
        # A sentence ends at . ! ? — or at a link followed by a capital ("Link: https://… Keep it short").
        for part in re.split(r"(?<=[.!?])[\"”')\]]*\s+|(?<=\x00)\s+(?=[A-Z])", line):
            part = part.replace("\x01", ".").strip()
            if MASK_RE.search(part) or len(re.sub(r"\W", "", part)) >= 2:
                sentences.append(_renumber(part, links))
    return sentences


def _renumber(part: str, links: list[str]) -> tuple[str, list[str]]:
    """A sentence's masks numbered from 0, with the links they stand for."""
    own: list[str] = []

    def renumber(match: re.Match[str]) -> str:
        own.append(links[int(match.group(1))])
        return f"\x00{len(own) - 1}\x00"

    return MASK_RE.sub(renumber, part), own


@dataclass(frozen=True)
class Reading:
    """What one sentence of a first prompt contributes."""

    idea: Idea | None
    links: list[str]
    link_only: bool = False
    audience_words: str = ""  # "our VIP customers" from "write an email to our VIP customers…"
    style_words: str = ""  # "short friendly" from "write a short friendly email…"


def read_prompt_sentence(masked: str, links: list[str], *, project: str) -> Reading:
    """Turn one (masked) sentence of a prompt into an idea, or nothing when it only carries a link."""
    if is_link_only(masked):
        return Reading(None, links, link_only=True)
    masked = strip_link_wrappers(masked)
    text = unmask(masked, links).strip()
    audience_words, style_words = "", ""
    wrapper = _WRAPPER_RE.match(_strip_lead(text))
    if wrapper and (
        wrapper.group("lead") or (wrapper.group("article") and _WRAPPER_REST_RE.match(wrapper.group("rest")))
    ):
        style_words = wrapper.group("kind").strip()
        text, audience_words = _after_wrapper(wrapper.group("rest"))
        if not text:
            return Reading(_idea_from_kind(style_words, project), links, False, audience_words, style_words)
    return Reading(rewrite(text, project=project), links, False, audience_words, style_words)


def _strip_lead(text: str) -> str:
    previous = None
    while previous != text:
        previous, text = text, _LEAD_RE.sub("", text, count=1).strip()
    return text


def _after_wrapper(rest: str) -> tuple[str, str]:
    """ "to our VIP customers announcing X" → ("announce X", "our VIP customers")."""
    rest = rest.strip(" .!?")
    audience = ""
    match = re.match(rf"^(?:to|for)\s+(?P<aud>{AUD})\s*,?\s*", rest, re.IGNORECASE)
    if match:
        audience, rest = match.group("aud"), rest[match.end() :]
    rest = re.sub(r"^(?:that|which|who)\s+(?:will\s+|should\s+|would\s+|can\s+)?", "", rest, flags=re.I)
    rest = re.sub(r"^to\s+", "", rest, flags=re.IGNORECASE)
    first, _, tail = rest.partition(" ")
    if first.lower() in _VERB_FORMS:
        rest = f"{_VERB_FORMS[first.lower()]} {tail}"
    elif re.match(r"^(?:about|on|regarding|for)\s+[^:]+$", rest, re.IGNORECASE):
        rest = "tell them about " + rest.split(None, 1)[1]
    elif ":" in rest:
        # "for April: new features X and Y" — what follows the colon is the content.
        rest = rest.split(":", 1)[1]
    rest = re.sub(r"^\s*[:—–-]\s*", "", rest)
    return rest.strip(), audience


def _idea_from_kind(kind_words: str, project: str) -> Idea | None:
    """ "Write a welcome email." says what to write without saying anything else."""
    words = kind_words.lower()
    if "welcome" in words or "onboarding" in words:
        return Idea("welcome", project, f"Welcome to {project}")
    if "thank" in words:
        return Idea("thank_plain", project, f"Thank you for being part of {project}")
    return None


def rewrite(text: str, *, project: str) -> Idea | None:
    """A sentence of the user's, as a sentence to the reader: an instruction rewritten, a statement kept."""
    text = _strip_lead(text.strip())
    body = text.rstrip(" .!?…").strip()
    if not body:
        return None
    for pattern, kind in VERBS:
        match = pattern.match(body)
        if not match:
            continue
        slot = (match.groupdict().get("x") or "").strip()
        slot = re.sub(rf"\s+(?:to|with)\s+{AUD}$", "", slot, flags=re.IGNORECASE)
        slot = lower_determiner(second_person(slot))
        if kind == "note":
            # "mention the free shipping" → "Also good to know: free shipping."
            slot = re.sub(r"^the\s+", "", slot, flags=re.IGNORECASE)
        return _idea(kind, slot, project)
    statement = end_sentence(text)
    return Idea("text", cap(statement), fit_subject(cap(statement)))


def _idea(kind: str, slot: str, project: str) -> Idea | None:
    if kind in ("thank", "welcome") and not slot:
        kind, slot = ("thank_plain" if kind == "thank" else "welcome"), project
    if not slot:
        return None
    if kind == "announce":
        return _announce(slot)
    if kind == "promote" and is_offer(slot):
        kind = "promote_offer"
    if kind == "ask_for" and re.match(
        r"(?:feedback|thoughts|input|opinions?|reviews?|ideas|suggestions)\b", slot
    ):
        slot = f"your {slot}"
    if kind == "text":
        return Idea("text", end_sentence(cap(slot)), fit_subject(cap(slot)))
    subject = SUBJECTS.get(kind, "{X}").format(x=_subject_slot(slot), X=cap(_subject_slot(slot)))
    return Idea(kind, slot, fit_subject(subject))


def _announce(slot: str) -> Idea:
    """ "our spring sale: 20% off" → "Our spring sale is here: 20% off." when the thing can be "here"."""
    match = re.search(r"\s*:\s+|\s+[–—-]\s+|,?\s+with\s+", slot)
    noun, sep, rest = (slot[: match.start()], match.group(), slot[match.end() :]) if match else (slot, "", "")
    words = noun.split()
    head = re.sub(r"\W", "", noun.split(" of ")[0].split()[-1].lower()) if words else ""
    launchable = head in _LAUNCHABLE or (head.endswith("s") and head[:-1] in _LAUNCHABLE)
    if words and words[0].lower() in _DETERMINERS and len(words) <= 7 and launchable:
        plural = head.endswith("s") and head not in _SINGULAR_S and not head.endswith(("ss", "us", "is"))
        joiner = {":": ": ", "with": ", with "}.get(sep.strip(" ,"), " — ") if rest else ""
        text = f"{cap(noun)} {'are' if plural else 'is'} here{joiner}{rest}"
        bare = re.sub(rf"^(?:{'|'.join(_DETERMINERS)})\s+", "", noun, flags=re.IGNORECASE)
        subject = f"{cap(bare)}: {rest}" if rest else f"{cap(noun)} {'are' if plural else 'is'} here"
        return Idea("announced", end_sentence(text), fit_subject(subject))
    starts_like_a_name = words and (words[0].lower() in _DETERMINERS or words[0].lower() == "new")
    subject = f"Introducing {_subject_slot(slot)}" if starts_like_a_name else cap(_subject_slot(slot))
    return Idea("announce", slot, fit_subject(subject))


def _subject_slot(slot: str) -> str:
    # A relative clause belongs in the body, not in the subject line.
    return re.split(r",\s+(?:which|who|that|so|where)\s+|;\s+", slot, maxsplit=1)[0]


def plain(text: str) -> str:
    """Text for a plain-text field (subject, preheader, label): no markup or template characters, one line."""
    text = re.sub(r"</?[A-Za-z][^<>]*>", " ", text)
    text = re.sub(r"[{}<>\x00-\x1f\x7f]", " ", text)
    return re.sub(r"\s+", " ", text).strip()


def unquote(text: str) -> str:
    """ "“Big news”" → "Big news"."""
    return text.strip().strip("“”\"'").strip()


def fit(text: str, limit: int) -> str:
    """Shorten to `limit` characters at a clause boundary if one is near, else at a word, with "…"."""
    text = plain(text)
    if len(text) <= limit:
        return text
    cuts = [
        m.start() for m in re.finditer(r",\s|:\s|\s[–—-]\s|\s(?:which|that|so|and|with|because|for)\s", text)
    ]
    good = [c for c in cuts if limit * 0.4 <= c <= limit]
    if good:
        return text[: max(good)].rstrip(" ,:;–—-")
    cut = text.rfind(" ", 0, limit - 1)
    return text[: cut if cut > 0 else limit - 1].rstrip(" ,:;–—-.") + "…"


def fit_subject(text: str) -> str:
    """A subject line: at most 78 characters, no trailing full stop."""
    return fit(text, SUBJECT_MAX).rstrip(" .,;:–—-")


def words_of(text: str) -> set[str]:
    """Lower-case words, for "does the preheader repeat the subject" checks."""
    return set(re.findall(r"[a-z0-9%]+", text.lower()))
