"""What an operation documents beyond its success and the common errors (401, 404, 422).

``openapi_extra=problems(409)`` on a route says that it can answer 409 with a problem+json,
so that clients (and the API fuzz test) know every status an operation may give.
"""

from __future__ import annotations

from typing import Any

PROBLEM_CONTENT = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}

# What each status means, the same for every operation that can answer it.
MEANINGS = {
    403: "The key may not do this.",
    409: "The change clashes with the object's state or with existing data.",
}


def problems(*statuses: int, **extra: Any) -> dict[str, Any]:
    """``openapi_extra`` documenting problem answers with these statuses (and any other ``extra``)."""
    # String keys, as tidings.api adds the common errors: one status never appears twice.
    responses = {
        str(status): {"description": MEANINGS[status], "content": PROBLEM_CONTENT} for status in statuses
    }
    return {"responses": responses, **extra}
