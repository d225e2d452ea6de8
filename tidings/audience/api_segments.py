"""/api/v1 endpoints for segments."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["Segments"], by_alias=True)
