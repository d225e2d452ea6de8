"""Button requests: "add a button to the pricing page", "change the button text to …", "remove the button".

A button needs an address. Without one in the request, the composer derives
it from the origin of a link seen earlier in the conversation ("pricing
page" → https://shop.example.com/pricing), and otherwise asks for it rather
than inventing one.
"""

from __future__ import annotations

import re

from tidings.drafts import composer_state as st
from tidings.drafts.composer_links import (
    MASK_RE,
    clean_page_name,
    is_link_only,
    label_for,
    origin,
    page_label,
    page_slug,
)
from tidings.drafts.composer_state import Command, Outcome
from tidings.drafts.composer_text import plain, unquote

_BUTTON_NOUN = r"(?:buttons?|cta|call[- ]to[- ]action)"
_BUTTON_REMOVE_RE = re.compile(
    rf"^(?:remove|delete|drop|lose|cut|take out|get rid of|no|without|don't need|do not need|skip)\s+"
    rf"(?:the\s+|a\s+|any\s+|all\s+)?(?:{_BUTTON_NOUN}|links?|(?:cta\s+)?buttons?)"
    r"(?:\s+(?:at all|entirely))?$",
    re.IGNORECASE,
)
_BUTTON_URL_RE = re.compile(
    rf"^(?:(?:change|set|update|point|make|use)\s+)?(?:the\s+)?(?:{_BUTTON_NOUN}|link)(?:'s)?"
    r"(?:\s+(?:link|url|address|target|href))?\s*(?:(?:to|at|:|=|should go to|should point to|go to|goes to|"
    r"point to|link to|point at)\s*)+\x00(?P<i>\d+)\x00$",
    re.IGNORECASE,
)
_BUTTON_LABEL_RE = re.compile(
    rf"^(?:(?:change|set|rename|make|update)\s+)?(?:the\s+)?{_BUTTON_NOUN}(?:'s)?"
    r"(?:\s+(?:text|label|copy|wording|title))?\s*"
    r"(?:to|as|say|says|should say|read|reads|should read|:|=)\s*(?P<x>.+)$",
    re.IGNORECASE,
)
_BUTTON_ADD_RE = re.compile(
    r"^(?:add|include|put|insert|create|give it|i want|we need|need|use|put in)\s+"
    r"(?:a|an|another|one more|the|one)?\s*"
    r"(?:(?:big|prominent|clear|second|new|cta|call[- ]to[- ]action)\s+)*"
    rf"(?:{_BUTTON_NOUN}|link)\b(?P<rest>.*)$",
    re.IGNORECASE,
)
_LABEL_IN_RE = re.compile(
    r"\s*(?:labell?ed|saying|that says|with (?:the )?(?:text|label)|reading|called|titled)\s+"
    r"(?:“(?P<q>[^”]+)”|(?P<l>[^\x00]+?))(?=\s+(?:to|for|linking|that|pointing|which|at)\b|\s*\x00|$)",
    re.IGNORECASE,
)
_PAGE_RE = re.compile(
    r"\b(?:to|for|linking to|that links to|pointing to|that goes to|leading to|on|which links to|"
    r"towards|at)\s+"
    r"(?P<page>.*)$",
    re.IGNORECASE,
)


def parse_button(text: str, links: list[str], state: st.State) -> Command | None:
    """A request about buttons: add one (to a link or a named page), relabel, re-link or remove it."""
    if _BUTTON_REMOVE_RE.match(text):
        return _remove_buttons
    url_match = _BUTTON_URL_RE.match(text)
    if url_match:
        url = links[int(url_match.group("i"))]
        return lambda state: _point_button(state, url)
    if is_link_only(text) and links:
        return lambda state: _link_given(state, links[0])
    label_match = _BUTTON_LABEL_RE.match(text)
    if label_match and not MASK_RE.search(label_match.group("x")):
        label = plain(unquote(label_match.group("x")))[:40]
        return (lambda state: _relabel(state, label)) if label else None
    add_match = _BUTTON_ADD_RE.match(text)
    if not add_match:
        return None
    rest = add_match.group("rest")
    label = ""
    label_in = _LABEL_IN_RE.search(rest)
    if label_in:
        label = plain(label_in.group("q") or label_in.group("l") or "")[:40]
        rest = rest[: label_in.start()] + rest[label_in.end() :]
    mask = MASK_RE.search(rest)
    url = links[int(mask.group(1))] if mask else ""
    page_match = _PAGE_RE.search(MASK_RE.sub(" ", rest))
    page = clean_page_name(page_match.group("page").strip(" ()[]:,")) if page_match else ""
    return lambda state: _add_button(state, url=url, page=page, label=label)


def _remove_buttons(state: st.State) -> Outcome:
    if not state.buttons:
        return Outcome(notes=["There was no button to remove."])
    count, state.buttons = len(state.buttons), []
    return Outcome(done=["removed the button" if count == 1 else "removed the buttons"])


def _point_button(state: st.State, url: str) -> Outcome:
    state.remember_urls([url])
    if not state.buttons:
        return _add_button(state, url=url, page="", label="")
    label, _old = state.buttons[0]
    state.buttons[0] = (label, url)
    return Outcome(done=[f"pointed the “{label}” button to {url}"])


def _link_given(state: st.State, url: str) -> Outcome:
    """A bare link: it becomes the button, or replaces the first button's link unless a button has it."""
    if any(existing == url for _, existing in state.buttons):
        return Outcome(notes=[f"The button already links to {url}."])
    return _point_button(state, url)


def _relabel(state: st.State, label: str) -> Outcome:
    if not state.buttons:
        return Outcome(notes=["There's no button yet: send me its link and I will add one."])
    state.buttons[0] = (label, state.buttons[0][1])
    return Outcome(done=[f"changed the button text to “{label}”"])


def _add_button(state: st.State, *, url: str, page: str, label: str) -> Outcome:
    """Add a button; without a link, derive one from an address seen earlier, or say which one is needed."""
    if len(state.buttons) >= st.MAX_BUTTONS:
        return Outcome(notes=[f"There are already {st.MAX_BUTTONS} buttons; remove one first."])
    if not url and page:
        known = origin(state.urls[-1]) if state.urls else ""
        if not known:
            slug = page_slug(page)
            example = f"https://…/{slug}" if slug else "https://…"
            return Outcome(
                notes=[
                    f"Tell me the address of the {page} page (e.g. “add a button to {example}”) "
                    "and I will add it."
                ]
            )
        slug = page_slug(page)
        url = f"{known}/{slug}" if slug else f"{known}/"
    if not url:
        unused = [u for u in state.urls if all(u != existing for _, existing in state.buttons)]
        if not unused:
            return Outcome(
                notes=[
                    "Send me the link for the button (e.g. “add a button to https://…”) and I will add it."
                ]
            )
        url = unused[0]
    if any(existing == url for _, existing in state.buttons):
        return Outcome(notes=[f"There's already a button linking to {url}."])
    label = label or (page_label(page) if page else label_for(url=url, text=state.text, intent=state.intent))
    state.remember_urls([url])
    state.buttons.append((label, url))
    return Outcome(done=[f"added a “{label}” button linking to {url}"])
