"""Property-based fuzzing of the whole OpenAPI document: no 5xx, and every answer as documented.

Schemathesis generates requests for every operation of `/api/v1/schema/` (valid ones and ones
that break the schema) and sends them to the WSGI application in process, with an API key that
holds every scope. Each answer must not be a server error and must match the document: a
documented status code, content type and body.
"""

import os

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.utils import timezone
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from config.models import SCOPES
from config.services import api_key_create
from config.wsgi import application
from personalization.features.models import VisitorFeatures
from tests.factories import (
    ContentItemFactory,
    SlotFactory,
    SlotRuleFactory,
    TagFactory,
    VisitorFactory,
    grant,
)
from tests.factories.personalization import SegmentFactory, SegmentMembershipFactory

pytestmark = pytest.mark.fuzz

# Examples per operation: the whole document takes about 40 s here, derandomized so that every
# run sends the same requests. `TAILOR_FUZZ_EXAMPLES=500` searches deeper by hand.
EXAMPLES = int(os.environ.get("TAILOR_FUZZ_EXAMPLES", "60"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def connection_kept(db):
    """As Django's test client does: a request must not close the test's open transaction."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def world(connection_kept) -> None:
    """A small world worth asking about: a personalized slot, a visitor, a segment, items."""
    running = TagFactory(name="Running", slug="running")
    shoe = ContentItemFactory(external_id="sku-1", tags=[running], cta_url="https://x.example/b")
    slot = SlotFactory(key="hero", default_items=[ContentItemFactory(external_id="welcome")])
    SlotRuleFactory(slot=slot, name="Runners", condition={"$inSegment": "runners"}, items=[shoe])
    visitor = VisitorFactory(external_id="crm-1", traits={"plan": "pro"})
    grant(visitor, "analytics", "personalization", "marketing")
    VisitorFeatures.objects.create(
        visitor=visitor, computed_at=timezone.now(), tag_affinities={"running": 1.0}
    )
    SegmentMembershipFactory(segment=SegmentFactory(key="runners", kind="static"), visitor=visitor)


@pytest.fixture
def bearer(db) -> dict[str, str]:
    _, secret = api_key_create(name="fuzzer", scopes=sorted(SCOPES))
    return {"Authorization": f"Bearer {secret}"}


# The document as the application serves it (building it reads no table).
schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", application)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_every_operation_answers_as_documented_without_server_errors(case, world, bearer):
    case.call_and_validate(headers=bearer, checks=CHECKS)
