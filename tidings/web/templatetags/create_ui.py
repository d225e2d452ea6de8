"""Template helpers of the Create pages."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def percent(rate: float | None) -> str:
    """0.049 → "4.9 %"; whole numbers without a decimal (1.0 → "100 %")."""
    if rate is None:
        return ""
    value = round(rate * 100, 1)
    return f"{value:.0f} %" if value == int(value) else f"{value:.1f} %"
