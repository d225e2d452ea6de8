"""Tracking in a message: its links sent through the click redirect, and an open pixel.

Each distinct link of a campaign gets a number, stored with its URL
(``TrackedLink``); a copy's ``href`` becomes ``/c/<token>``, where the token
names the message and the link number. The redirect goes only to the stored
URL, so a token can never send anyone elsewhere. Only ``http(s)`` links are
tracked; the unsubscribe and preference links stay as they are.
"""

from __future__ import annotations

import hashlib
import html as htmllib
import re
from collections.abc import Callable

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Max

from tidings.campaigns.models import Campaign
from tidings.content.rendering import body_end
from tidings.tracking.models import TrackedLink
from tidings.tracking.tokens import MAX_LINK, click_url, message_token, open_url

HREF = re.compile(r"(<a\b[^>]*?\bhref\s*=\s*)([\"'])(.*?)\2", re.IGNORECASE | re.DOTALL)
MAX_URL = 4000


def trackable(url: str) -> bool:
    """An absolute http(s) link that is not one of Tidings' own recipient pages."""
    lowered = url.lower()
    if not lowered.startswith(("http://", "https://")) or len(url) > MAX_URL:
        return False
    own = settings.BASE_URL.rstrip("/").lower()
    return not lowered.startswith((f"{own}/u/", f"{own}/p/"))


class LinkTracker:
    """One campaign's links by number; rewrites each copy's links and adds its pixel."""

    def __init__(self, campaign: Campaign, *, clicks: bool, opens: bool) -> None:
        self.campaign = campaign
        self.clicks, self.opens = clicks, opens
        self.numbers: dict[str, int] = dict(
            TrackedLink.objects.filter(campaign=campaign).values_list("url", "index")
        )

    def number(self, url: str) -> int | None:
        """The link's number in its campaign, numbering it if new; None past the most a token holds."""
        known = self.numbers.get(url)
        if known is not None:
            return known
        digest = hashlib.sha256(url.encode()).hexdigest()
        for _ in range(5):  # another worker may take the next number at the same moment
            existing = TrackedLink.objects.filter(campaign=self.campaign, url_hash=digest).first()
            if existing is not None:
                self.numbers[url] = existing.index
                return existing.index
            top = TrackedLink.objects.filter(campaign=self.campaign).aggregate(top=Max("index"))["top"] or 0
            if top >= MAX_LINK:
                return None  # 65,535 different links in one campaign: the rest go out untracked
            try:
                with transaction.atomic():
                    TrackedLink.objects.create(
                        project_id=self.campaign.project_id,
                        campaign=self.campaign,
                        index=top + 1,
                        url=url,
                        url_hash=digest,
                    )
            except IntegrityError:
                continue
            self.numbers[url] = top + 1
            return top + 1
        raise RuntimeError("could not number a link")  # five collisions in a row: give up on this copy

    def click_url(self, message_id: int, number: int) -> str:
        """The address a copy's link number ``number`` goes through."""
        return click_url(
            message_token(
                project_id=self.campaign.project_id,
                message_id=message_id,
                link=number,
                campaign_id=self.campaign.pk,
            )
        )

    def pixel(self, message_id: int) -> str:
        """The open pixel of a copy."""
        token = message_token(
            project_id=self.campaign.project_id, message_id=message_id, campaign_id=self.campaign.pk
        )
        return (
            f'<img src="{open_url(token)}" '
            'width="1" height="1" alt="" style="display:block;width:1px;height:1px;border:0">'
        )

    def link_number(self, href: str) -> int | None:
        """The number of the link an ``href`` attribute's value (HTML-escaped) names; None if it
        is not tracked."""
        url = htmllib.unescape(href).strip()
        return self.number(url) if trackable(url) else None

    def rewrite(self, html: str, address: Callable[[int], str]) -> str:
        """``html`` with each tracked link's address replaced by ``address(its number)``."""

        def swap(match: re.Match[str]) -> str:
            number = self.link_number(match.group(3))
            if number is None:
                return match.group(0)
            quote = match.group(2)
            return f"{match.group(1)}{quote}{address(number)}{quote}"

        return HREF.sub(swap, html)

    def apply(self, html: str, message_id: int) -> str:
        if self.clicks:
            html = self.rewrite(html, lambda number: self.click_url(message_id, number))
        if self.opens:
            end = body_end(html)
            pixel = self.pixel(message_id)
            html = html[:end] + pixel + html[end:] if end >= 0 else html + pixel
        return html
