"""Cursor pagination, shared by every list endpoint.

Keyset on the primary key, newest first: a page costs the same at row ten
million as at row ten, and rows added while a client pages never shift or
repeat what it sees. The cursor is opaque to clients.
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any

from django.db.models import QuerySet
from django.http import HttpRequest
from ninja import Field, Query, Schema
from ninja.pagination import PaginationBase

from tidings.core.errors import ValidationError

DEFAULT_LIMIT = 50
MAX_LIMIT = 200

# For views that page by hand (``cursor_page``): the same parameters as CursorPagination's.
Cursor = Annotated[str | None, Query(None, description="The `nextCursor` of the previous page.")]
Limit = Annotated[int, Query(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="Items per page.")]


def encode_cursor(pk: int) -> str:
    return base64.urlsafe_b64encode(f"pk:{pk}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        kind, _, value = text.partition(":")
        if kind != "pk":
            raise ValueError(kind)
        pk = int(value)
        if pk < 1:
            raise ValueError(value)
    except (ValueError, UnicodeDecodeError, binascii.Error) as exc:
        raise ValidationError.field("cursor", "is not a cursor this API returned") from exc
    return pk


def cursor_page(queryset: QuerySet, *, cursor: str | None, limit: int) -> tuple[list[Any], str | None]:
    """One page of ``queryset`` (newest first) and the cursor of the next page, if any."""
    queryset = queryset.order_by("-pk")
    if cursor:
        queryset = queryset.filter(pk__lt=decode_cursor(cursor))
    rows = list(queryset[: limit + 1])
    if len(rows) > limit:
        return rows[:limit], encode_cursor(rows[limit - 1].pk)
    return rows, None


class CursorPagination(PaginationBase):
    class Input(Schema):
        cursor: str | None = Field(None, description="The `nextCursor` of the previous page.")
        limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT, description="Items per page.")

    class Output(Schema):
        items: list[Any]
        nextCursor: str | None = Field(
            None, description="Pass as `cursor` for the next page; null on the last."
        )

    def paginate_queryset(
        self, queryset: QuerySet, pagination: Input, request: HttpRequest, **params: Any
    ) -> dict[str, Any]:
        items, next_cursor = cursor_page(queryset, cursor=pagination.cursor, limit=pagination.limit)
        return {"items": items, "nextCursor": next_cursor}
