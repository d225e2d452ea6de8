"""A campaign's copies: each recipient's message, rendered → tracked → assembled → signed.

``MessageBuilder`` prepares once what every copy shares (the compiled design,
the link numbers, the DKIM keys) and makes each copy from it.

Every copy's HTML is the compiled design's static chunks with a few pieces
filled in: the recipient's values, each link's tracking address, the footer
and the open pixel. After the RSA signature, quoted-printable encoding and
DKIM's body canonicalisation of tens of kilobytes are the costliest steps of a
copy, and on the static chunks they give the same bytes every time. So, for a
transport that sends the signed bytes, ``HtmlPlan`` encodes and canonicalises
the static chunks once per campaign. Each piece is encoded on its own and ends
in a soft line break (``=`` CRLF), so its encoding does not depend on what came
before it; a reader joins the pieces back into the very HTML the
straightforward path writes, and the canonical pieces joined are the canonical
body (both tested).

A link whose tag holds a value (``<a href="{{ unsubscribeUrl }}">``) is a
piece of its own: each copy fills the tag in and tracks it alone, as the whole
page's tracking would. A copy the plan cannot make exactly is made the
straightforward way: a recipient the compiled design renders in full, a value
that holds a link or the end of the body, or a quote or angle bracket in a
link's tag. A design whose link address runs on past its tag into a value
gets no plan at all.
"""

from __future__ import annotations

import html as htmllib
import re
from collections.abc import Callable
from dataclasses import dataclass, replace

from django.conf import settings

from tidings.audience.models import Contact
from tidings.campaigns.models import Campaign
from tidings.content.compiled import Part, compile_design
from tidings.content.rendering import DesignSource, Rendered, body_end
from tidings.content.templating import ProjectInfo, render_context
from tidings.sending import assemble
from tidings.sending.dkim import DkimKey, canonical_lines, keys_for_domain, sign
from tidings.sending.models import Message, SendingDomain
from tidings.sending.transports import PermanentFailure
from tidings.tracking.bounces import bounce_domain, verp_address
from tidings.tracking.links import HREF, LinkTracker
from tidings.tracking.tokens import preferences_url, recipient_token, unsubscribe_url

_FOOTER_MARK = "tidings-footer"

# Marks standing for the filled-in pieces while a plan is made: characters of Unicode's private
# use area, which a compiled chunk holding one makes the plan decline.
_SLOT, _LINK, _TAG, _END, _CLOSE = "\ue000", "\ue001", "\ue004", "\ue002", "\ue003"
_MARKS = (_SLOT, _LINK, _TAG, _END, _CLOSE)
_MARK = re.compile(f"([{_SLOT}{_LINK}{_TAG}])(\\d+){_CLOSE}|{_END}")
_KINDS = {_SLOT: "slot", _LINK: "link", _TAG: "tag"}
_LINK_TAG = re.compile(r"<a\b[^>]*>", re.IGNORECASE)
_SLOT_MARK = re.compile(f"{_SLOT}(\\d+){_CLOSE}")
# A value in a link's tag that could change where the tag or its address ends.
_TAG_BREAKERS = frozenset("\"'<>")
_A_TAG = re.compile(r"<a\b", re.IGNORECASE)
_BODY_CLOSE = re.compile(r"</body", re.IGNORECASE)


@dataclass(frozen=True)
class _Static:
    wire: bytes
    canonical: bytes
    length: int


@dataclass(frozen=True)
class _Filled:
    kind: str  # "slot": a slot's value | "link": a tracked link's address | "tag": a link's tag
    # that holds slots, tracked once filled in | "end": the footer and pixel before </body>
    number: int  # the slot's place in the template, the link's number, or the tag's
    last: bool


class HtmlPlan:
    """One campaign's HTML as encoded static pieces and the pieces each copy fills in."""

    def __init__(self, items: list[_Static | _Filled], tags: list[list[str | int]], *, clicks: bool) -> None:
        self.items = items
        self.tags = tags  # each link tag that holds slots: its static text and slot numbers
        self.clicks = clicks
        self.ends = any(type(item) is _Filled and item.kind == "end" for item in items)

    @classmethod
    def make(cls, template: list[Part], tracker: LinkTracker, *, ends: bool) -> HtmlPlan | None:
        """The plan of ``template`` (a compiled design's HTML), its links tracked as ``tracker``
        says; ``ends``: copies get a footer or a pixel before ``</body>``. None where the plan
        could not make every copy exactly as the straightforward path does."""
        marked: list[str] = []
        for i, part in enumerate(template):
            if isinstance(part, str):
                if any(mark in part for mark in _MARKS):
                    return None
                marked.append(part)
            else:
                marked.append(f"{_SLOT}{i}{_CLOSE}")
        html = "".join(marked)
        tags: list[list[str | int]] = []
        if tracker.clicks:

            def cut_tag(match: re.Match[str]) -> str:
                tag = match.group(0)
                if _SLOT not in tag:
                    return tag
                # A link whose tag holds a value (``href="{{ unsubscribeUrl }}"``): each copy fills
                # the tag in and tracks it alone, as the whole page's tracking would.
                static = _SLOT_MARK.sub("", tag)
                if static.count('"') % 2 or static.count("'") % 2:
                    raise _NoPlan
                tags.append(
                    [int(p) if i % 2 else p for i, p in enumerate(_SLOT_MARK.split(tag)) if p or i % 2]
                )
                return f"{_TAG}{len(tags) - 1}{_CLOSE}"

            try:
                html = _LINK_TAG.sub(cut_tag, html)
            except _NoPlan:
                return None
            if any(any(mark in match.group(0) for mark in _MARKS) for match in HREF.finditer(html)):
                return None  # a link's address runs on into a value: only a copy knows that link
            html = tracker.rewrite(html, lambda number: f"{_LINK}{number}{_CLOSE}")
        if ends:
            end = body_end(html)
            html = html[:end] + _END + html[end:] if end >= 0 else html + _END
        cuts: list[tuple[str, str, int]] = []  # (static text | "", kind, number)
        position = 0
        for match in _MARK.finditer(html):
            if match.start() > position:
                cuts.append((html[position : match.start()], "", 0))
            if match.group(1):
                cuts.append(("", _KINDS[match.group(1)], int(match.group(2))))
            else:
                cuts.append(("", "end", 0))
            position = match.end()
        if position < len(html):
            cuts.append((html[position:], "", 0))
        items: list[_Static | _Filled] = []
        for i, (text, kind, number) in enumerate(cuts):
            last = i == len(cuts) - 1
            if kind:
                items.append(_Filled(kind, number, last))
            else:
                wire = assemble.qp_piece(text, last=last)
                items.append(_Static(wire, canonical_lines(wire), len(text)))
        return cls(items, tags, clicks=tracker.clicks)

    def encode(
        self,
        pieces: list[str],
        track: Callable[[str], str],
        link: Callable[[int], str],
        end: Callable[[], str],
    ) -> assemble.EncodedHtml | None:
        """One copy's HTML part: ``pieces`` are the template's parts filled in, ``track`` tracks
        the links of a piece of HTML, ``link`` gives a link's address, ``end`` what goes before
        ``</body>``. None if this copy needs the straightforward path (a value that holds a link,
        the end of the body, or, in a link's tag, a quote or an angle bracket)."""
        wire: list[bytes] = []
        canonical: list[bytes] = []
        length = 0
        for item in self.items:
            if type(item) is _Static:
                wire.append(item.wire)
                canonical.append(item.canonical)
                length += item.length
                continue
            assert isinstance(item, _Filled)
            if item.kind == "slot":
                text = pieces[item.number]
                if "<" in text and (
                    (self.clicks and _A_TAG.search(text)) or (self.ends and _BODY_CLOSE.search(text))
                ):
                    return None
            elif item.kind == "link":
                text = link(item.number)
            elif item.kind == "tag":
                parts = []
                for part in self.tags[item.number]:
                    if isinstance(part, int):
                        value = pieces[part]
                        if not _TAG_BREAKERS.isdisjoint(value):
                            return None
                        parts.append(value)
                    else:
                        parts.append(part)
                text = track("".join(parts))
            else:
                text = end()
            if not text and not item.last:
                continue
            encoded = assemble.qp_piece(text, last=item.last)
            wire.append(encoded)
            canonical.append(canonical_lines(encoded))
            length += len(text)
        return assemble.EncodedHtml(wire, canonical, length)


class _NoPlan(Exception):
    pass


class MessageBuilder:
    """Everything a campaign's messages share, prepared once: render → track → assemble → sign."""

    def __init__(self, campaign: Campaign, *, signs: bool, verp: bool = False, outbox: bool = False) -> None:
        self.campaign = campaign
        content = campaign.content or {}
        self.source = DesignSource(
            content.get("format", "html"),
            content.get("subject", ""),
            content.get("preheader", ""),
            content.get("body", ""),
        )
        project = campaign.project
        self.project_info = ProjectInfo.of(project)
        self.project_info_from_name = project.default_from_name
        self.project = self.project_info.as_dict()
        self.compiled = compile_design(self.source, base={"project": self.project})
        self.marketing = not campaign.transactional
        # Marketing mail carries an unsubscribe link and the postal address: what the
        # design does not show itself is added in a footer.
        self.footer_link = self.marketing and not (
            {"unsubscribeUrl", "preferencesUrl"} & self.compiled.variables
        )
        self.footer_address = self.marketing and "project.postalAddress" not in self.compiled.variables
        self.needs_footer = self.footer_link or self.footer_address
        self.tracker = LinkTracker(
            campaign,
            clicks=campaign.track_clicks and project.track_clicks,
            opens=campaign.track_opens and project.track_opens,
        )
        self.from_domain = campaign.from_email.rpartition("@")[2].lower()
        # Mail we hand to a relay ourselves returns its bounces to us: a VERP envelope sender per
        # message, on a domain worked out once here. An ESP keeps its own return path.
        self.bounce_domain = (
            bounce_domain(
                project_id=campaign.project_id,
                from_domain=self.from_domain,
                published=outbox,
            )
            if verp
            else ""
        )
        self.keys: list[DkimKey] = []
        if signs:
            domain = (
                SendingDomain.objects.for_project(project)
                .filter(domain=self.from_domain, verified_at__isnull=False)
                .first()
            )
            if domain is not None:
                self.keys = keys_for_domain(domain)
        # An ESP is handed the HTML as text: the plan serves only copies sent as signed bytes.
        template = self.compiled.html_template
        self.plan = (
            HtmlPlan.make(
                template,
                self.tracker,
                ends=self.needs_footer or self.tracker.opens,
            )
            if signs and template is not None
            else None
        )

    def links(self, contact: Contact | None) -> dict[str, str]:
        if contact is None or not self.marketing:
            return {}
        token = recipient_token(
            project_id=self.campaign.project_id, contact_id=contact.pk, campaign_id=self.campaign.pk
        )
        return {"unsubscribeUrl": unsubscribe_url(token), "preferencesUrl": preferences_url(token)}

    def _context(self, contact: Contact | None, links: dict[str, str]) -> dict[str, object]:
        ctx = render_context(
            project=self.project_info, contact=contact, links=links, extra=self.campaign.variables or None
        )
        ctx["project"] = self.project  # the very object compiled in, so the fast path applies
        return ctx

    def render(self, contact: Contact | None, links: dict[str, str]) -> Rendered:
        return self._footed(self.compiled.render(self._context(contact, links)), links)

    def _footed(self, rendered: Rendered, links: dict[str, str]) -> Rendered:
        if self.needs_footer and links:
            return self._with_footer(rendered, links["preferencesUrl"])
        return rendered

    def _footer(self, url: str) -> tuple[str, str]:
        """The unsubscribe link and postal address a marketing message must carry: the block
        before ``</body>``, the lines at the end of the text ("" and "" if neither is needed)."""
        name = htmllib.escape(self.project_info.name)
        address = self.project_info.postal_address.strip() if self.footer_address else ""
        html_parts, text_parts = [], []
        if self.footer_link:
            html_parts.append(
                f"You receive this email from {name}. "
                f'<a href="{htmllib.escape(url)}" style="color:#6b7280">'
                "Unsubscribe or manage your preferences</a>"
            )
            text_parts.append(f"Unsubscribe or manage your preferences: {url}")
        if address:
            html_parts.append(htmllib.escape(address).replace("\n", "<br>"))
            text_parts.append(address)
        if not html_parts:
            return "", ""
        block = (
            f'<div class="{_FOOTER_MARK}" style="font-family:Arial,sans-serif;font-size:12px;'
            f'color:#6b7280;text-align:center;padding:24px 16px">{"<br>".join(html_parts)}</div>'
        )
        return block, "\n".join(text_parts)

    def _with_footer(self, rendered: Rendered, url: str) -> Rendered:
        block, lines = self._footer(url)
        if not block:
            return rendered
        html = rendered.html
        end = body_end(html)
        html = html[:end] + block + html[end:] if end >= 0 else html + block
        return replace(rendered, html=html, text=self._footer_text(rendered.text, lines))

    @staticmethod
    def _footer_text(text: str, lines: str) -> str:
        return f"{text.rstrip()}\n\n--\n{lines}\n" if lines else text

    def track(self, message: Message, rendered: Rendered) -> Rendered:
        """Links through the click redirect and an open pixel, as the campaign and project want."""
        if not (self.tracker.clicks or self.tracker.opens):
            return rendered
        return replace(rendered, html=self.tracker.apply(rendered.html, message.pk))

    def planned(
        self, message: Message, contact: Contact | None, links: dict[str, str]
    ) -> tuple[Rendered, assemble.EncodedHtml | None] | None:
        """The copy made from the plan: its rendering, and its HTML encoded. Where the plan cannot
        encode this copy the HTML comes rendered instead (and ``None`` beside it), to be finished
        the straightforward way; None where the compiled design renders it in full."""
        if self.plan is None:
            return None
        made = self.compiled.render_pieces(self._context(contact, links))
        if made is None:
            return None
        rendered, pieces = made
        block, lines = self._footer(links["preferencesUrl"]) if self.needs_footer and links else ("", "")
        tracker = self.tracker

        def track(html: str) -> str:
            return tracker.rewrite(html, lambda number: tracker.click_url(message.pk, number))

        def end() -> str:
            return block + (tracker.pixel(message.pk) if tracker.opens else "")

        encoded = self.plan.encode(pieces, track, lambda number: tracker.click_url(message.pk, number), end)
        if encoded is None:
            return replace(rendered, html="".join(pieces)), None
        return replace(rendered, text=self._footer_text(rendered.text, lines)), encoded

    def assemble(
        self,
        message: Message,
        rendered: Rendered,
        links: dict[str, str],
        html: assemble.EncodedHtml | None = None,
    ) -> assemble.Outgoing:
        headers: dict[str, str] = {}
        if links:
            headers["List-Unsubscribe"] = f"<{links['unsubscribeUrl']}>"
            headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        campaign = self.campaign
        outgoing = assemble.Outgoing(
            from_email=campaign.from_email,
            from_name=campaign.from_name or self.project_info_from_name,
            reply_to=campaign.reply_to,
            to=message.email,
            subject=rendered.subject,
            html=rendered.html,
            text=rendered.text,
            headers=headers,
            message_id=assemble.message_id(self.from_domain),
            envelope_from=verp_address(
                project_id=campaign.project_id, message_id=message.pk, domain=self.bounce_domain
            )
            if self.bounce_domain
            else "",
            html_encoded=html,
        )
        size = outgoing.html_length + len(outgoing.text)
        if size > settings.SEND_MAX_MESSAGE_BYTES:
            raise PermanentFailure(
                f"the message is {size:,} bytes, over the limit of {settings.SEND_MAX_MESSAGE_BYTES:,}"
            )
        return outgoing

    def sign(self, outgoing: assemble.Outgoing) -> bytes:
        written = assemble.write(outgoing)
        return sign(written.data, self.keys, body_hash=written.body_hash) if self.keys else written.data

    def build(
        self, message: Message, contact: Contact | None, *, signed: bool, plan: bool = True
    ) -> tuple[assemble.Outgoing, bytes | None]:
        """One recipient's copy, and its bytes as sent when ``signed`` (for SMTP and the outbox);
        ``plan=False`` makes it the straightforward way."""
        links = self.links(contact)
        planned = self.planned(message, contact, links) if plan and signed else None
        if planned is not None and planned[1] is not None:
            outgoing = self.assemble(message, planned[0], links, planned[1])
        else:
            # Rendered already (the footer and tracking still to come), or to render now.
            rendered = self._footed(planned[0], links) if planned is not None else self.render(contact, links)
            outgoing = self.assemble(message, self.track(message, rendered), links)
        return outgoing, self.sign(outgoing) if signed else None
