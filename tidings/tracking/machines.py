"""Telling people from machines: privacy proxies that fetch every image, scanners that follow every link.

Such events are kept (a report shows them apart) but do not count as a
person's open or click, and do not move a contact's activity for segments.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

# User agents of image proxies and link scanners (matched anywhere, case-insensitive).
_MACHINE_AGENTS = re.compile(
    r"GoogleImageProxy|ggpht\.com|YahooMailProxy|Yahoo! Slurp|Barracuda|Mimecast|Proofpoint|"
    r"Symantec|MessageLabs|TrendMicro|Forcepoint|Sophos|Cisco|IronPort|FireEye|"
    r"SafeLinks|Microsoft Office Protocol Discovery|bot\b|spider|crawler|HeadlessChrome|"
    r"python-requests|python-urllib|curl/|Wget|Go-http-client|okhttp|Java/|libwww|"
    r"facebookexternalhit|Slackbot|Twitterbot|LinkedInBot|WhatsApp|SkypeUriPreview|preview",
    re.IGNORECASE,
)
# Apple Mail Privacy Protection fetches through proxies that send a bare "Mozilla/5.0".
_BARE_AGENT = re.compile(r"\s*(Mozilla/5\.0)?\s*\Z")
# Scanners follow every link within seconds of delivery; a person takes longer.
SCANNER_WINDOW = timedelta(seconds=10)


def is_machine(*, user_agent: str, kind: str, method: str, sent_at: datetime | None, now: datetime) -> bool:
    if method == "HEAD" or _BARE_AGENT.fullmatch(user_agent) or _MACHINE_AGENTS.search(user_agent):
        return True
    return kind == "clicked" and sent_at is not None and now - sent_at < SCANNER_WINDOW
