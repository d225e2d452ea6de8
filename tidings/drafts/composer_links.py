"""Links in a conversation: finding them, splitting text around them, and naming the button.

Split from the sentence reader because links are the one part of a prompt
that must survive verbatim (a mangled URL is worse than none), so they are
found first and masked while the rest of the text is cut into sentences.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

# Characters that end a URL: whitespace, markup, quotes and braces. Braces
# matter most: a URL must never carry `{{` into the Liquid template.
_URL_CHARS = r"[^\s<>\"'{}|\\^`\[\]]"
_TLDS = (
    "com|org|net|io|co|de|uk|app|dev|shop|store|fr|nl|es|it|eu|ai|me|us|ca|au|ch|at|be|se|no|dk|fi|pl|pt|"
    "info|biz"
)
LINK_RE = re.compile(
    # Each alternative starts only where a token starts, so a long run of letters is scanned once.
    rf"(?P<email>(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+)"
    rf"|(?P<url>\b(?:https?://|www\.){_URL_CHARS}+)"
    rf"|(?P<bare>(?<![\w./-])(?:[a-z0-9](?:[a-z0-9-]{{0,61}}[a-z0-9])?\.)+(?:{_TLDS})(?:/{_URL_CHARS}*)?(?![\w@-]))",
    re.IGNORECASE,
)
# A masked link inside text being split into sentences: \x00<index>\x00.
MASK_RE = re.compile(r"\x00(\d+)\x00")

# Words that may stand around a link in a sentence that only exists to give
# the link ("Link: …", "Register here: …"); such a sentence becomes the button.
_LINK_WORDS = frozenset(
    "link links url here here's is the a an to for at via see visit go cta button page landing website site "
    "this our it use more info details with and sale shop store signup sign up register registration event "
    "webinar offer of please add on them send check out read full story".split()
)

# Button labels by keyword, checked against the URL's path first (most
# specific), then the conversation's text. Order matters: first match wins.
LABELS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), label)
    for pattern, label in (
        (r"\brsvp\b", "RSVP now"),
        (
            r"\b(webinars?|events?|conference|meetup|meet-up|workshops?|summit|livestream|seminars?|masterclass)\b",
            "Register now",
        ),
        (r"\b(register|registration)\b", "Register now"),
        (r"\b(survey|feedback|questionnaire|poll)\b", "Share your feedback"),
        (r"\bsales?\b", "Shop the sale"),
        (r"\b(discount|deals?|coupon|promo|offers?|\d+\s?% off|percent off)\b", "Claim your offer"),
        (r"\b(pricing|prices?|plans)\b", "See pricing"),
        (r"\btrial\b", "Start your free trial"),
        (r"\b(sign-?up|join)\b", "Sign up"),
        (r"\bdemo\b", "Book a demo"),
        (r"\b(downloads?|e-?book|whitepaper|guide|report|checklist)\b", "Download now"),
        (r"\brenew(al)?\b", "Renew now"),
        (r"\bupgrade\b", "Upgrade now"),
        (r"\bdonat(e|ion)\b", "Donate now"),
        (r"\b(shop|store|collection|products?|catalog(ue)?)\b", "Shop now"),
        (r"\b(book(ing)?|appointment|reservations?|reserve)\b", "Book now"),
        (r"\b(docs|documentation)\b", "Read the docs"),
        (r"\b(help|support|faq)\b", "Get help"),
        (r"\bcontact\b", "Contact us"),
        (r"\b(app)\b", "Get the app"),
        (r"\b(blog|articles?|posts?|story|stories|news|read)\b", "Read more"),
    )
)
INTENT_LABELS = {
    "welcome": "Get started",
    "invite": "Register now",
    "thank": "Read more",
    "update": "Read more",
}
DEFAULT_LABEL = "Learn more"

# "home page", "website", "site", "homepage": the origin itself.
_HOME_PAGES = frozenset({"home", "homepage", "home page", "website", "site", "web site", "shop", "store"})


def _trim(raw: str) -> str:
    """A link as matched, minus the sentence punctuation that followed it."""
    url = raw.rstrip(".,;:!?'\"")
    while url.endswith(")") and url.count("(") < url.count(")"):
        url = url[:-1].rstrip(".,;:!?")
    return url


def find_links(text: str) -> list[tuple[int, int, str, str]]:
    """Every link in `text` as (start, end, absolute url, kind), where kind is url, bare or email.

    `www.x.com` and bare domains become `https://…`; email addresses become `mailto:…`.
    """
    found = []
    for match in LINK_RE.finditer(text):
        kind = match.lastgroup or "url"
        raw = _trim(match.group())
        if kind == "email":
            url = f"mailto:{raw}"
        elif re.match(r"https?://", raw, re.IGNORECASE):
            url = raw
        else:
            url = f"https://{raw}"
        found.append((match.start(), match.start() + len(raw), url, kind))
    return found


def mask_links(text: str) -> tuple[str, list[str]]:
    """Replace each link by \\x00<i>\\x00 so sentence splitting cannot cut it at its dots."""
    links: list[str] = []
    parts: list[str] = []
    last = 0
    for start, end, url, _kind in find_links(text):
        parts.append(text[last:start])
        parts.append(f"\x00{len(links)}\x00")
        links.append(url)
        last = end
    parts.append(text[last:])
    return "".join(parts), links


def unmask(text: str, links: list[str]) -> str:
    """Put masked links back, as absolute URLs (email addresses as plain addresses)."""
    return MASK_RE.sub(lambda m: links[int(m.group(1))].removeprefix("mailto:"), text)


def is_link_only(masked_sentence: str) -> bool:
    """True when a sentence only carries a link ("Link: …", "Register here: …") and adds no content."""
    if not MASK_RE.search(masked_sentence):
        return False
    words = re.findall(r"[a-z']+", MASK_RE.sub(" ", masked_sentence).lower())
    return len(words) <= 8 and all(word in _LINK_WORDS for word in words)


def strip_link_wrappers(masked_sentence: str) -> str:
    """Drop a link that only decorates a sentence: "(…)" or a trailing ": …" — the button carries it."""
    text = re.sub(r"\s*\(\s*\x00\d+\x00\s*\)", "", masked_sentence)
    return re.sub(r"\s*[:–—-]\s*\x00\d+\x00\s*([.!?]?)\s*$", r"\1", text)


def origin(url: str) -> str:
    """scheme://host of a web address, or "" for anything that is not http(s)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return ""
    return f"{parts.scheme}://{parts.netloc}"


def page_slug(page: str) -> str:
    """The path for a page named in words: "spring collection" → "spring-collection"; "home page" → ""."""
    if page.lower() in _HOME_PAGES:
        return ""
    return re.sub(r"[^a-z0-9]+", "-", page.lower()).strip("-")


def clean_page_name(words: str) -> str:
    """ "the pricing page" → "pricing"; "our spring collection" → "spring collection"."""
    name = re.sub(r"^(?:the|our|my|your|a|an)\s+", "", words.strip(" .,:;!?\"'“”"), flags=re.IGNORECASE)
    name = re.sub(r"\s+(?:page|section)(?:\s+on\s+(?:the|our)\s+(?:website|site))?$", "", name, flags=re.I)
    return re.sub(r"\s+(?:on|of)\s+(?:the|our)\s+(?:website|site)$", "", name, flags=re.IGNORECASE).strip()


def label_for(*, url: str, text: str, intent: str) -> str:
    """A button label: from the link's path if it names the page, else from the text, else the intent."""
    path = re.sub(r"[/_.-]+", " ", urlsplit(url).path) if url else ""
    for source in (path, text):
        for pattern, label in LABELS:
            if source and pattern.search(source):
                return label
    return INTENT_LABELS.get(intent, DEFAULT_LABEL)


def page_label(page: str) -> str:
    """A label for a button to a named page: "pricing" → "See pricing", otherwise "Visit the … page"."""
    for pattern, label in LABELS:
        if pattern.search(page):
            return label
    if page_slug(page) == "":
        return "Visit our website"
    return f"See the {page}"
