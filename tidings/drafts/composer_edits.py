"""Follow-ups: requests such as "shorter, more formal and add a button to the pricing page".

A follow-up is cut into clauses (at sentence ends, and at "and"/"," before
another request), and each clause is matched against the requests below.
A clause that matches nothing is reported back, never guessed at: the
email keeps everything it understood and nothing else changes. The same
requests are recognised inside a first prompt ("Keep it short. Subject:
Spring is here"), where a sentence that is not a request is content.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from tidings.drafts import composer_state as st
from tidings.drafts.composer_adjust import STYLE_COMMANDS, parse_mention, parse_style, parse_unmention
from tidings.drafts.composer_buttons import parse_button
from tidings.drafts.composer_links import unmask
from tidings.drafts.composer_state import Command, Outcome
from tidings.drafts.composer_text import fit, fit_subject, plain, rewrite, split_sentences, unquote
from tidings.drafts.composer_tone import LANGUAGES, NO_EXCLAIM_RE, signature_in

_QUOTE_RE = re.compile(r"[\"“”]([^\"“”]{1,200})[\"“”]")
_QUOTE_MASK_RE = re.compile(r"\x02(\d+)\x02")
_CMD = (
    r"(?:make|add|remove|delete|drop|change|set|use|mention|include|shorten|cut|sign|put|replace|rename|"
    r"translate|switch|greet|keep|more|less|shorter|longer|friendlier|warmer|link|point|don't|do not|stop|"
    r"subject|preheader|p\.?s\b|no|without|tone|write|turn|get rid|take out|leave out|lose)\b"
)
_CLAUSE_SPLIT_RE = re.compile(
    rf"\s*(?:[,;]\s*(?:and\s+|then\s+|also\s+)*|\s+(?:and|then|also|plus)\s+)(?={_CMD})", re.I
)
_FILLER_RE = re.compile(
    r"^(?:(?:please|pls|ok(?:ay)?|now|also|and|then|so|but|just|great|thanks|can you|could you|would you|"
    r"i'd like you to|i want you to|i'd like to|let's|maybe|perhaps)[,\s]+)+",
    re.IGNORECASE,
)
_PLEASANTRY_RE = re.compile(
    r"^(?:(?:thanks?|thank you|thx|great|perfect|nice|ok(?:ay)?|cool|good|looks good|love it|awesome|"
    r"brilliant|"
    r"excellent|lovely|super|yes|yep|sure|so much|a lot)[\s,!.]*)+$",
    re.IGNORECASE,
)


def requests(text: str) -> list[tuple[str, list[str]]]:
    """The clauses of a message, each with its links masked (\\x00i\\x00) and its quotes intact."""
    quotes: list[str] = []

    def mask(match: re.Match[str]) -> str:
        quotes.append(match.group(1))
        return f"\x02{len(quotes) - 1}\x02"

    clauses = []
    for sentence, links in split_sentences(_QUOTE_RE.sub(mask, text)):
        for clause in _CLAUSE_SPLIT_RE.split(sentence):
            clause = _QUOTE_MASK_RE.sub(lambda m: f"“{quotes[int(m.group(1))]}”", clause).strip(" ,;")
            if clause:
                clauses.append((clause, links))
    return clauses


def apply_message(state: st.State, text: str, *, first: bool = False) -> Outcome | None:
    """Apply every request in a message; clauses that are not requests are reported as not understood.

    With `first` (a sentence of a first prompt) those clauses are content instead, and the result is
    None when the sentence holds no request at all, so that it is read whole.
    """
    parsed = [(clause, links, parse(clause, links, state, first=first)) for clause, links in requests(text)]
    if first and all(command is None for _, _, command in parsed):
        return None
    outcome = Outcome()
    for clause, links, command in parsed:
        if command is not None:
            outcome.add(command(state))
        elif first:
            outcome.content.append((clause, links))
        else:
            outcome.unknown.append(unmask(clause, links))
    return outcome


def parse(clause: str, links: list[str], state: st.State, *, first: bool) -> Command | None:
    """The command a clause asks for, or None. Parsing only reads the state (the catalog, for variables)."""
    text = _FILLER_RE.sub("", clause).strip().rstrip(".!?").strip()
    if not text or _PLEASANTRY_RE.match(text):
        return lambda state: Outcome()
    for parser in _PARSERS:
        command = parser(text, links, state)
        if command is not None:
            return command
    if first:
        return None
    return _content(text, links) or parse_style(text, links, state, partial=True)


# -- subject, preheader, P.S. ---------------------------------------------------------------------

_SUBJECT_SHORTER_RE = re.compile(
    r"^(?:(?:make|keep)\s+)?(?:the\s+)?subject(?:\s+line)?\s+(?:shorter|more concise|punchier|snappier)$|"
    r"^(?:the\s+)?subject(?:\s+line)?\s+is\s+too\s+long$|"
    r"^shorten\s+(?:the\s+)?subject(?:\s+line)?$|^(?:a\s+)?shorter\s+subject(?:\s+line)?$",
    re.IGNORECASE,
)
_FIELD_SET = (
    r"^(?:(?:change|set|update|make|use|rename|replace|switch)\s+)?(?:the\s+)?(?:(?:email'?s?|new)\s+)?"
    r"{name}\s*(?:(?:to|as|into|with|should be|is|=|:)\s*|(?=“))(?P<x>.+)$"
)
_SUBJECT_RE = re.compile(_FIELD_SET.format(name=r"subject(?:\s+line)?"), re.IGNORECASE)
_PREHEADER_RE = re.compile(
    _FIELD_SET.format(name=r"(?:preheader|pre-header|preview(?:\s+(?:text|line))?)"), re.IGNORECASE
)
_PS_REMOVE_RE = re.compile(
    r"^(?:remove|delete|drop|lose|cut|take out|get rid of|no|without)\s+(?:the\s+)?"
    r"(?:p\.?\s?s\b\.?|postscript)$",
    re.IGNORECASE,
)
_PS_ADD_RE = re.compile(
    r"^(?:(?:add|include|put|append|write|end with)\s+)?(?:an?\s+|the\s+)?"
    r"(?:p\.?\s?s\b\.?|postscript|post-script)"
    r"(?:\s*[:,–—-]\s*|\s+(?:saying|that says|that reads|reading|with|to say|mentioning)\s+|\s+)(?P<x>.+)$",
    re.IGNORECASE,
)


def _subject(text: str, links: list[str], state: st.State) -> Command | None:
    if _SUBJECT_SHORTER_RE.match(text):
        return _shorten_subject
    match = _SUBJECT_RE.match(text)
    if not match:
        return None
    value = fit_subject(unquote(unmask(match.group("x"), links)))

    def set_subject(state: st.State) -> Outcome:
        if not value:
            return Outcome(notes=["A subject needs some words, so I kept the current one."])
        state.subject = value
        return Outcome(done=[f"changed the subject to “{value}”"])

    return set_subject


def _shorten_subject(state: st.State) -> Outcome:
    current = st.subject(state)
    head = re.split(r":\s|,\s|\s[–—-]\s", current, maxsplit=1)[0]
    shorter = head if 12 <= len(head) < len(current) else fit(current, 45).rstrip("…").rstrip(" ,.")
    if shorter == current:
        return Outcome(notes=["The subject is already short."])
    state.subject = shorter
    return Outcome(done=[f"shortened the subject to “{shorter}”"])


def _preheader(text: str, links: list[str], state: st.State) -> Command | None:
    match = _PREHEADER_RE.match(text)
    if not match:
        return None
    value = plain(unquote(unmask(match.group("x"), links)))

    def set_preheader(state: st.State) -> Outcome:
        state.preheader = value
        return Outcome(done=["changed the preheader"])

    return set_preheader if value else None


def _ps(text: str, links: list[str], state: st.State) -> Command | None:
    if _PS_REMOVE_RE.match(text):

        def remove(state: st.State) -> Outcome:
            had, state.ps = state.ps, None
            return (
                Outcome(done=["removed the P.S."]) if had else Outcome(notes=["There was no P.S. to remove."])
            )

        return remove
    match = _PS_ADD_RE.match(text)
    if not match:
        return None
    words = unquote(unmask(match.group("x"), links))
    words = re.sub(r"^(?:about|that)\s+", "", words, flags=re.IGNORECASE) if words else words

    def add(state: st.State) -> Outcome:
        idea = rewrite(words, project=state.project)
        if idea is None:
            return Outcome(notes=["Tell me what the P.S. should say."])
        state.ps = idea
        return Outcome(done=["added a P.S."])

    return add


# -- buttons --------------------------------------------------------------------------------------
# -- signature, exclamation marks, language -------------------------------------------------------

_SIGNATURE_FIELD_RE = re.compile(r"^(?:signature|sign-?off)\s*[:=]\s*(?P<x>.+)$", re.IGNORECASE)
_LANGUAGE_WORDS = {name.lower(): code for code, name in LANGUAGES.items()} | {"english": "en"}
_LANGUAGE_RE = re.compile(
    r"^(?:(?:write|switch|change|put|make|greet(?:\s+them)?|translate|use)\s+)?(?:it\s+|the\s+(?:greeting|email)\s+)?"
    r"(?:(?:in)?to\s+|in\s+)?(?P<lang>german|french|spanish|dutch|italian|portuguese|english)"
    r"(?:\s+(?:greeting|language|please|instead))?$",
    re.IGNORECASE,
)


def _signature(text: str, links: list[str], state: st.State) -> Command | None:
    field_match = _SIGNATURE_FIELD_RE.match(text)
    if field_match:
        name = plain(unquote(field_match.group("x")))[:80]
    elif re.match(r"^sign", text, re.IGNORECASE):
        name = signature_in(text)[:80]
    else:
        return None
    if not name:
        return None

    def sign(state: st.State) -> Outcome:
        state.signature = name
        return Outcome(done=[f"signed it as “{name}”"])

    return sign


def _exclamations(text: str, links: list[str], state: st.State) -> Command | None:
    if not NO_EXCLAIM_RE.search(text) or len(text.split()) > 8:
        return None

    def calm(state: st.State) -> Outcome:
        state.no_exclaim = True
        return Outcome(done=["removed the exclamation marks"])

    return calm


def _language(text: str, links: list[str], state: st.State) -> Command | None:
    match = _LANGUAGE_RE.match(text)
    if not match:
        return None
    code = _LANGUAGE_WORDS[match.group("lang").lower()]

    def switch(state: st.State) -> Outcome:
        state.language = code
        if code == "en":
            return Outcome(done=["switched the greeting and sign-off to English"])
        return Outcome(
            done=[f"switched the greeting and sign-off to {LANGUAGES[code]}"],
            notes=["The offline composer can't translate the body, so it stays as written."],
        )

    return switch


# -- personalisation ------------------------------------------------------------------------------
# -- content --------------------------------------------------------------------------------------

_STOPWORDS = frozenset(
    "the and about that with our their your this part paragraph sentence line bit mention".split()
)
_ADD_RE = re.compile(
    r"^(?:add|include|insert|append|put in|write)\s+(?:a\s+|an\s+|one more\s+|another\s+)?"
    r"(?:(?:short\s+|brief\s+|new\s+)?(?P<unit>line|sentence|paragraph|note|bit|section|point)\s*)?"
    r"(?:(?P<about>about|on|regarding)\s+|(?:saying|that says|stating|that)\s+|:\s*)?(?P<x>.*)$",
    re.IGNORECASE,
)


def _remove_content(state: st.State, phrase: str) -> Outcome:
    words = [w for w in re.findall(r"[\w%$€£]+", phrase.lower()) if len(w) >= 3 and w not in _STOPWORDS]
    if not words:
        return Outcome(notes=[f"I couldn't tell what “{phrase}” refers to, so I left the email as it was."])
    keep = [i for i in state.ideas if not all(w in i.text(state.register).lower() for w in words)]
    if len(keep) == len(state.ideas):
        return Outcome(notes=[f"I couldn't find “{phrase}” in the email."])
    if not keep:
        return Outcome(notes=["That would leave the email empty, so I kept it."])
    state.ideas = keep
    return Outcome(done=[f"removed the part about “{' '.join(words)}”"])


def _content(text: str, links: list[str]) -> Command | None:
    """ "Add that shipping is free", "mention the new app", "remove the part about X", "remind them to …"."""
    removal = re.match(
        r"^(?:remove|delete|drop|cut|take out|leave out|get rid of|don't mention|do not mention|skip|lose)\s+"
        r"(?:the\s+)?(?:(?:part|paragraph|sentence|line|bit|section|mention|point)\s+"
        r"(?:about|on|of|with|mentioning|regarding)\s+)?(?P<x>.+)$",
        text,
        re.IGNORECASE,
    )
    if removal:
        phrase = removal.group("x")
        return lambda state: _remove_content(state, phrase)
    add = _ADD_RE.match(text)
    if add and not add.group("x").strip():
        return STYLE_COMMANDS["longer"] if add.group("unit") else None
    if add:
        words = unmask(add.group("x"), links)
        words = f"tell them about {words}" if add.group("about") else words
    else:
        words = unmask(text, links)
        if not re.match(r"^(?:mention|say|note|point out|state|tell|let|explain|remind|announce|invite|thank|"
                        r"welcome|promote|highlight|ask|offer|apologi[sz]e|congratulate|share|wish|celebrate|"
                        r"recommend|encourage|introduce|launch)\b", words, re.IGNORECASE):  # fmt: skip
            return None

    def add_idea(state: st.State) -> Outcome:
        state.remember_urls(links)
        idea = rewrite(words, project=state.project)
        if idea is None:
            return Outcome(notes=["Tell me what to add."])
        if any(existing.text("neutral") == idea.text("neutral") for existing in state.ideas):
            return Outcome(notes=["The email already says that."])
        state.ideas.append(idea)
        return Outcome(done=[f"added “{fit(idea.text(state.register), 70).rstrip('.')}”"])

    return add_idea


# -- length and register --------------------------------------------------------------------------


_PARSERS: tuple[Callable[[str, list[str], st.State], Command | None], ...] = (
    _subject,
    _preheader,
    _ps,
    parse_button,
    _signature,
    _exclamations,
    _language,
    parse_mention,
    parse_unmention,
    parse_style,
)
