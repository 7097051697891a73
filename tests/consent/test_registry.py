"""Every model that refers to a visitor or a user is in the personal-data registry, or says why not.

A reference is accounted for when the model is registered and its declaration covers the field
(its `path` to the visitor, or `covers`), or when an app exempts the field with a reason in its
`privacy.py` (`registry.exempt`). Today's exemptions, all made in the apps' privacy modules:

- content.ContentItem.author, content.ContentRevision.author: an editor's authorship;
- consent.DataSubjectRequest.handled_by, consent.PrivacyAuditEntry.actor: the privacy officer
  or staff member who acted, kept for accountability;
- admin.LogEntry.user: the staff member who acted (entries *about* a subject are registered).

Auto-created many-to-many tables (user groups and permissions) are left out of the walk: the
user declaration's eraser clears them.
"""

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.exceptions import ImproperlyConfigured

from consent import registry
from personalization.visitors.models import Visitor


def references_to_people() -> list[str]:
    """`app.Model.field` of every foreign key, one-to-one or many-to-many to a visitor or a user."""
    people = {Visitor, get_user_model()}
    return [
        f"{model._meta.label}.{field.name}"
        for model in apps.get_models()
        for field in model._meta.get_fields()
        if field.is_relation and not field.auto_created and field.related_model in people
    ]


def test_every_reference_to_a_visitor_or_a_user_is_registered_or_exempt_with_a_reason():
    covered = {
        f"{d.model._meta.label}.{name}".lower()
        for d in registry.declarations()
        for name in d.covered_fields
    }
    exempt = registry.exemptions()

    missing = [
        reference
        for reference in references_to_people()
        if reference.lower() not in covered and reference.lower() not in exempt
    ]

    assert not missing, (
        "register these in the app's privacy.py (how to export and erase them) or exempt them "
        f"there with a reason: {missing}"
    )
    assert all(e.reason.strip() for e in exempt.values())


def test_the_walk_sees_the_references_it_must_judge():
    found = references_to_people()

    assert {"personalization.Event.visitor", "content.ContentItem.author"} <= set(found)


def test_visitors_their_users_and_the_consent_log_are_registered():
    labels = {d.model._meta.label for d in registry.declarations()}

    assert {
        "personalization.Visitor",
        "personalization.VisitorMerge",
        "personalization.Event",
        "personalization.VisitorFeatures",
        "consent.ConsentRecord",
        get_user_model()._meta.label,
    } <= labels


def test_visitors_are_erased_last_because_the_others_are_found_through_them():
    order = [d.model._meta.label for d in registry.declarations()]

    assert order[-1] == "personalization.Visitor"


def test_a_declaration_whose_path_does_not_reach_a_visitor_is_refused():
    declaration = registry.PersonalData(label="content.ContentItem", path="kind")

    with pytest.raises(ImproperlyConfigured, match="does not reach Visitor"):
        declaration.check()


def test_a_declaration_naming_a_missing_field_or_an_anonymize_without_fields_is_refused():
    with pytest.raises(ImproperlyConfigured, match="no field 'visitr'"):
        registry.PersonalData(
            label="personalization.Event", path="visitor", covers=("visitr",)
        ).check()
    with pytest.raises(ImproperlyConfigured, match="anonymize needs"):
        registry.PersonalData(
            label="personalization.Event", path="visitor", erase=registry.ANONYMIZE
        ).check()


def test_an_exemption_needs_a_reason():
    with pytest.raises(ImproperlyConfigured):
        registry.exempt("content.ContentItem.author", " ")


def test_export_fields_default_to_every_concrete_field_but_the_excluded():
    declaration = registry.declaration("consent.ConsentRecord")

    fields = declaration.export_fields()

    assert "subject_hash" not in fields
    assert {"visitor_id", "purpose_id", "granted", "created_at", "ip_hash"} <= set(fields)
