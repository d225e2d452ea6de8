"""/api/v1 endpoints for contacts, tags and topics."""

from __future__ import annotations

from ninja import Router

contacts = Router(tags=["Contacts"], by_alias=True)
tags = Router(tags=["Tags"], by_alias=True)
topics = Router(tags=["Topics"], by_alias=True)
