"""How a campaign's left-out recipients are told, in the UI, the API's errors and the CLI.

Free of Django, so the command line can say it in remote mode without the server's settings.
"""

from __future__ import annotations

from collections.abc import Mapping

# Why a recipient was left out (a SkipReason's value) → the words for it.
REASON_WORDS = {
    "unsubscribed": "unsubscribed",
    "non_subscribed": "never subscribed",
    "bounced": "bounced",
    "complained": "complained",
    "topic_opt_out": "opted out of the topic",
    "suppressed": "on the suppression list",
    "not_a_contact": "no longer contacts",
}


def excluded_summary(excluded: Mapping[str, int]) -> str:
    """``{"bounced": 3, "unsubscribed": 1200}`` → ``"3 bounced, 1,200 unsubscribed"``."""
    parts = [f"{n:,} {REASON_WORDS.get(reason, reason)}" for reason, n in sorted(excluded.items()) if n]
    return ", ".join(parts)
