"""Fuzzing /api/v1 from its own OpenAPI document: no 5xx, and every answer is what the document says.

Schemathesis generates valid and invalid requests for every operation and runs all of its
checks on each answer; a second test follows the document's links (create → read, change,
delete). Both run in-process against the WSGI app, with a project that holds data, so that
path parameters mostly name objects that exist.

``TIDINGS_FUZZ_EXAMPLES`` sets how many examples each operation gets (a few in CI; see
docs/api.md for the longer run before a release). The run is derandomized and keeps no
example database, so a failure here is a failure every time.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import hypothesis
import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.test import Client

from tests.conftest import ApiClient
from tests.core.fuzz_support import offline, seed_project
from tidings.core.models import Project
from tidings.core.services import api_key_create

EXAMPLES = int(os.environ.get("TIDINGS_FUZZ_EXAMPLES", "4"))
STATEFUL_STEPS = int(os.environ.get("TIDINGS_FUZZ_STEPS", "10"))
SEED = 20250101
OPENAPI = "/api/v1/openapi.json"

# positive_data_acceptance expects every request the document allows to succeed. These operations
# apply rules the document does not state yet, so a schema-valid request may fairly get 422:
# choices given as free strings (contact status, suppression reason, connection kind, recipient
# type, design starter), non-empty names and bodies, numbers within a range, cross-field rules
# ("give at most one of tagId or segmentId", "template or emailId") and references to objects
# that must exist (a tag id inside segment rules, a provider connection). Each is a gap in the
# document to close (docs/api.md, "Fuzzing"); every other check still runs on them.
STRICTER_THAN_DOCUMENTED = [
    "GET /api/v1/contacts",
    "GET /api/v1/contacts/export.csv",
    "GET /api/v1/suppressions",
    "PATCH /api/v1/project",
    "POST /api/v1/contacts",
    "PATCH /api/v1/contacts/{contactId}",
    "POST /api/v1/topics",
    "PATCH /api/v1/segments/{segmentId}",
    "POST /api/v1/segments",
    "POST /api/v1/segments/preview",
    "POST /api/v1/imports",
    "POST /api/v1/designs",
    "PATCH /api/v1/designs/{designId}",
    "POST /api/v1/designs/render",
    "PATCH /api/v1/drafts/settings",
    "POST /api/v1/connections",
    "PATCH /api/v1/connections/{connectionId}",
    "POST /api/v1/domains",
    "POST /api/v1/campaigns",
    "PATCH /api/v1/campaigns/{campaignId}",
    "POST /api/v1/campaigns/{campaignId}/send",
    "POST /api/v1/campaigns/{campaignId}/schedule",
    "POST /api/v1/sending",
    "POST /api/v1/suppressions/{suppressionId}/remove",
    "GET /api/v1/personas/catalog",
    "PATCH /api/v1/topics/{topicId}",
    "POST /api/v1/tags",
    "POST /api/v1/drafts",
    "POST /api/v1/tags/{tagId}/contacts",
    "POST /api/v1/tags/{tagId}/contacts/remove",
    "POST /api/v1/topics/{topicId}/subscribe",
    "POST /api/v1/topics/{topicId}/unsubscribe",
    # A persona's id is required unless its type is none (a cross-field rule).
    "PUT /api/v1/drafts/{draftId}/persona",
    # A test send's address must be one email-validator accepts, which "format: email" does not say.
    "POST /api/v1/designs/{designId}/test",
    # A webhook URL's host must resolve to a public address: no schema can say which hosts do.
    "POST /api/v1/webhooks",
    "PATCH /api/v1/webhooks/{webhookId}",
]


def _takes_a_cursor(document: dict[str, Any]) -> list[str]:
    """List operations: a cursor is an opaque token, so one the server never issued is refused (422)
    however well it fits ``type: string``; positive_data_acceptance cannot know that."""
    return [
        f"{method.upper()} {path}"
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if any(p["name"] == "cursor" and p["in"] == "query" for p in operation.get("parameters", []))
    ]


def _config(secret: str, ids: dict[str, list[int]], document: dict[str, Any]) -> schemathesis.Config:
    return schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "generation": {
                "mode": "all",
                "max-examples": EXAMPLES,
                "deterministic": True,
                "database": "none",
            },
            "auth": {"openapi": {"ApiKeyAuth": {"bearer": secret}}},
            # Path parameters mostly name the seeded objects; now and then anything at all.
            "dictionaries": {name: {"values": values} for name, values in ids.items() if values},
            "parameters": {
                f"path.{name}": {"dictionary": name, "probability": 0.8}
                for name, values in ids.items()
                if values
            },
            "phases": {"stateful": {"max-steps": STATEFUL_STEPS}},
            "operations": [
                {"include-name": label, "checks": {"positive_data_acceptance": {"enabled": False}}}
                for label in STRICTER_THAN_DOCUMENTED + _takes_a_cursor(document)
            ],
        }
    )


@pytest.fixture
def fuzz_schema(transactional_db: None, project: Project, settings: Any) -> Iterator[Any]:
    with offline(settings) as servers:
        issued = api_key_create(project=project, name="fuzz")
        ids = seed_project(project, ApiClient(issued.secret), servers)
        document = Client().get(OPENAPI).json()
        config = _config(issued.secret, ids, document)
        yield schemathesis.openapi.from_wsgi(OPENAPI, WSGIHandler(), config=config)


schema = schemathesis.pytest.from_fixture("fuzz_schema")


@pytest.fixture(autouse=True)
def _node_id_for_schemathesis(request: pytest.FixtureRequest) -> None:
    """Schemathesis 4.32 renames each operation's subtest through ``Node._nodeid``, which pytest 9.2
    no longer has (it became ``_id``); give it the attribute it reads."""
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid


@schema.parametrize()
@hypothesis.settings(deadline=None, suppress_health_check=list(hypothesis.HealthCheck))
def test_every_operation_answers_as_documented(case: schemathesis.Case) -> None:
    case.call_and_validate()


def test_linked_operations_answer_as_documented(fuzz_schema: Any) -> None:
    machine = fuzz_schema.as_state_machine()
    machine.run(
        settings=hypothesis.settings(
            max_examples=EXAMPLES,
            stateful_step_count=STATEFUL_STEPS,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(hypothesis.HealthCheck),
        )
    )
