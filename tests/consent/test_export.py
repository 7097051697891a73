import json
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from consent.gdpr.audit import COMMAND
from consent.gdpr.requests import access_request_fulfil, subject_request_create
from consent.gdpr.subjects import subject_resolve
from consent.models import DataSubjectRequest, PrivacyAuditEntry
from consent.registry import declarations
from experiments.services import exposures_record
from personalization.clustering.models import Cluster, ClusterMembership, ClusterRun
from personalization.features.models import VisitorFeatures
from personalization.recommendations.models import ModelRun, Recommendation
from personalization.scores.models import ScoreRun, VisitorScore
from personalization.segments.models import Segment, SegmentMembership
from personalization.triggers.models import (
    Delivery,
    DeliveryAttempt,
    TriggerCooldown,
    TriggerWatch,
)
from personalization.triggers.services import endpoint_create
from personalization.visitors.models import Event, Impression, Visitor
from personalization.visitors.services import visitor_merge
from tests.factories import ContentItemFactory, UserFactory, api_client_with_key
from tests.factories.experiments import ExperimentFactory
from tests.factories.personalization import grant
from tests.factories.triggers import TriggerFactory

EXPORT_URL = "/api/v1/privacy/export"


@dataclass
class Seeded:
    """A data subject with rows in every registered model, and the ids that name them."""

    visitor: Visitor
    tombstone: Visitor
    user: object
    event_ids: list[str] = field(default_factory=list)

    @property
    def identifiers(self) -> list[str]:
        return [
            self.visitor.external_id,
            str(self.visitor.uid),
            str(self.tombstone.uid),
            self.user.username,
            self.user.email,
            *self.event_ids,
        ]


def seed_subject(name: str, *, events: int = 3) -> Seeded:
    """A customer who browsed anonymously, logged in (merge), bought, consented and asked once."""
    user = UserFactory(username=f"{name}-login", email=f"{name}.mail@example.org")
    visitor = Visitor.objects.create(
        external_id=f"{name}-crm", user=user, traits={"language": "de", "nickname": f"{name}-nick"}
    )
    tombstone = Visitor.objects.create(traits={"source": "newsletter"})
    item = ContentItemFactory()
    seeded = Seeded(visitor=visitor, tombstone=tombstone, user=user)
    now = timezone.now()
    for n in range(events):
        event_id = f"{name}-evt-{n}"
        Event.objects.create(
            event_id=event_id, visitor=tombstone if n == 0 else visitor,
            type="purchase" if n == 1 else "view", item=item,
            value=Decimal("9.5") if n == 1 else None,
            properties={"path": f"/{name}/page-{n}"}, occurred_at=now - timedelta(hours=n),
        )  # fmt: skip
        seeded.event_ids.append(event_id)
    grant(tombstone, "analytics")
    grant(visitor, "analytics", "personalization")
    visitor_merge(source=tombstone, target=visitor)
    VisitorFeatures.objects.create(
        visitor=visitor, computed_at=now, event_count=events, tag_affinities={"sale": 0.5}
    )
    segment, _ = Segment.objects.get_or_create(
        key="vip", defaults={"name": "VIP", "kind": Segment.Kind.STATIC}
    )
    SegmentMembership.objects.create(segment=segment, visitor=visitor)
    Impression.objects.create(visitor=visitor, item=item, slot="homepage-hero")
    experiment = ExperimentFactory(key=f"{name}-hero-test")
    exposures_record(rows=[(visitor.pk, experiment.pk, experiment.variations.first().pk)])
    Recommendation.objects.create(
        run=ModelRun.objects.create(), visitor=visitor, item=item, rank=1, score=0.5,
        algorithm="hybrid",
    )  # fmt: skip
    run = ClusterRun.objects.create(algorithm="kmeans", k=1, status="done")
    cluster = Cluster.objects.create(run=run, number=0, name="Bargain hunters")
    ClusterMembership.objects.create(run=run, cluster=cluster, visitor=visitor)
    VisitorScore.objects.create(
        run=ScoreRun.objects.create(status="finished"), visitor=visitor, target="churn",
        probability=0.75,
    )  # fmt: skip
    _triggers_seed(name, visitor, now)
    request = subject_request_create(
        type=DataSubjectRequest.Type.ACCESS, identifier=visitor.external_id, actor=COMMAND,
        notes=f"asked by {user.email}",
    )  # fmt: skip
    access_request_fulfil(request=request, actor=COMMAND)
    for obj, label in ((visitor, str(visitor)), (user, user.username)):
        LogEntry.objects.log_actions(
            user_id=UserFactory(username=f"{name}-editor", staff=True).pk,
            queryset=[obj], action_flag=CHANGE, change_message=f"looked at {label}",
        )  # fmt: skip
    return seeded


def _triggers_seed(name: str, visitor: Visitor, now) -> None:
    """A webhook message about the visitor with its attempt, an open cart and a cooldown."""
    endpoint, _ = endpoint_create(name=f"{name} mailer", url="http://127.0.0.1:9/hook")
    trigger = TriggerFactory(key=f"{name}-cart", endpoints=[endpoint])
    delivery = Delivery.objects.create(
        endpoint=endpoint, trigger=trigger, visitor=visitor, give_up_at=now,
        body=f'{{"data": {{"visitor": {{"external_id": "{visitor.external_id}"}}}}}}',
    )  # fmt: skip
    DeliveryAttempt.objects.create(delivery=delivery, status_code=503, response_excerpt="busy")
    TriggerWatch.objects.create(trigger=trigger, visitor=visitor, started_at=now, due_at=now)
    TriggerCooldown.objects.create(
        trigger=trigger, visitor=visitor, fired_at=now, cooldown_until=now
    )


def export_via_command(identifier: str, tmp_path) -> dict:
    out = tmp_path / "export.json"
    call_command("export_subject", identifier, "--output", str(out))
    return json.loads(out.read_text())


def client_with_key(*scopes: str, name: str = "crm") -> APIClient:
    return api_client_with_key(*scopes, name=name)


@pytest.fixture
def privacy_client() -> APIClient:
    """A CRM whose API key may export and erase data subjects."""
    return client_with_key("privacy:admin")


@pytest.mark.django_db
def test_the_export_holds_every_registered_models_rows_of_the_subject_and_none_of_another(
    tmp_path,
):
    subject, other = seed_subject("alice"), seed_subject("bob")

    document = export_via_command("alice-crm", tmp_path)

    resolved = subject_resolve("alice-crm")
    for declaration in (d for d in declarations() if d.exported):
        label = declaration.model._meta.label
        rows = document["data"][label]
        assert rows, f"seed a row of {label} for the subject in seed_subject()"
        assert len(rows) == declaration.queryset(resolved).count(), label
    text = json.dumps(document)
    assert all(identifier in text for identifier in subject.identifiers)
    assert not [identifier for identifier in other.identifiers if identifier in text]


@pytest.mark.django_db
def test_the_export_names_the_subject_and_keeps_merged_profiles_events_and_consent(tmp_path):
    subject = seed_subject("carol")

    document = export_via_command(str(subject.tombstone.uid), tmp_path)

    assert document["format"] == "tailor.subject-export"
    assert document["generated_at"]
    assert set(document["subject"]["identifiers"]) >= {"carol-crm", str(subject.tombstone.uid)}
    data = document["data"]
    assert {v["uid"] for v in data["personalization.Visitor"]} == {
        str(subject.visitor.uid),
        str(subject.tombstone.uid),
    }
    assert sorted(e["event_id"] for e in data["personalization.Event"]) == subject.event_ids
    purchase = next(e for e in data["personalization.Event"] if e["type"] == "purchase")
    assert purchase["value"] == "9.5000"
    assert purchase["item_external_id"].startswith("ext-")
    assert {r["purpose_key"] for r in data["consent.ConsentRecord"]} == {
        "analytics",
        "personalization",
    }
    assert data["auth.User"] == [
        {
            "username": "carol-login",
            "email": "carol.mail@example.org",
            "first_name": "",
            "last_name": "",
            "date_joined": subject.user.date_joined.isoformat(),
            "last_login": None,
            "is_active": True,
        }
    ]
    assert "password" not in json.dumps(data["auth.User"])


@pytest.mark.django_db
def test_export_subject_prints_json_to_stdout_and_logs_an_answered_access_request(capsys):
    seed_subject("dave")

    call_command("export_subject", "dave-crm")

    document = json.loads(capsys.readouterr().out)
    assert document["data"]["personalization.Visitor"][0]["external_id"] == "dave-crm"
    entry = PrivacyAuditEntry.objects.filter(action="exported").latest("pk")
    assert entry.channel == "command"
    assert entry.detail["counts"]["personalization.Event"] == 3
    assert entry.request.type == "access"
    assert entry.request.status == "done"


@pytest.mark.django_db
def test_export_subject_refuses_an_unknown_visitor():
    with pytest.raises(Exception, match="no visitor with id 'nobody'"):
        call_command("export_subject", "nobody")


@pytest.mark.django_db
def test_the_export_api_streams_the_document_to_a_key_with_the_privacy_scope(privacy_client):
    seed_subject("erin")
    seed_subject("frank")

    response = privacy_client.post(EXPORT_URL, {"visitor_id": "erin-crm"}, format="json")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    text = b"".join(response.streaming_content).decode()
    document = json.loads(text)
    assert [v["external_id"] for v in document["data"]["personalization.Visitor"]] == [
        "erin-crm",
        None,
    ]
    assert "frank" not in text
    entry = PrivacyAuditEntry.objects.get(action="exported", channel="api")
    assert entry.api_key.name == "crm"


@pytest.mark.django_db
def test_the_export_api_answers_404_for_an_unknown_visitor_and_403_without_the_scope(
    privacy_client,
):
    seed_subject("gina")
    response = privacy_client.post(EXPORT_URL, {"visitor_id": "nobody"}, format="json")
    assert response.status_code == 404
    assert response.json()["errors"] == {
        "visitor_id": ["no visitor with this external or cookie id"]
    }

    client = client_with_key("events:write", name="shop")
    assert client.post(EXPORT_URL, {"visitor_id": "gina-crm"}, format="json").status_code == 403
    assert APIClient().post(EXPORT_URL, {"visitor_id": "gina-crm"}).status_code == 401
    assert not PrivacyAuditEntry.objects.filter(channel="api").exists()


@pytest.mark.django_db
def test_the_export_of_a_visitor_with_many_events_is_written_in_chunks(tmp_path, monkeypatch):
    from consent.gdpr import export

    monkeypatch.setattr(export, "CHUNK_ROWS", 7)
    visitor = Visitor.objects.create(external_id="many")
    Event.objects.bulk_create(
        Event(event_id=f"m-{n}", visitor=visitor, type="view", occurred_at=timezone.now())
        for n in range(50)
    )
    pieces = list(export.export_chunks(subject=subject_resolve("many")))

    document = json.loads("".join(pieces))
    assert len(document["data"]["personalization.Event"]) == 50
    assert max(len(p) for p in pieces) < 7 * 400
