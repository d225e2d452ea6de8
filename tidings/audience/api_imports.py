"""/api/v1 endpoints for imports."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["Imports"], by_alias=True)
