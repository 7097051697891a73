"""`GET /api/v1/slots/{key}/decide` and `POST /api/v1/blocks/batch`."""

from typing import Any

from drf_spectacular.utils import (
    OpenApiExample,
    extend_schema,
    extend_schema_serializer,
    inline_serializer,
)
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.schema import errors
from personalization.decisions.engine import slot_definition
from personalization.decisions.request import request_state
from personalization.delivery.api.common import (
    MAX_RECIPIENTS,
    MAX_SLOTS,
    REASONS,
    BlocksRead,
    DecideRead,
    ItemSerializer,
    QueryFormatIsOurs,
    item_json,
    tracking_base,
)
from personalization.delivery.blocks import blocks_batch, explanation, visitor_decide
from personalization.delivery.links import click_token, decision_token, item_target
from personalization.delivery.rendering import SlotRendering


class SlotDecideApi(APIView):
    """A slot's items for one visitor, with tracked links and a signed decision token."""

    permission_classes = [DecideRead]
    content_negotiation_class = QueryFormatIsOurs

    class InputSerializer(serializers.Serializer):
        visitor = serializers.CharField(max_length=200, help_text="External or cookie id.")
        format = serializers.ChoiceField(
            choices=["json", "html"], default="json", help_text="html: add the rendered blocks."
        )

    @extend_schema_serializer(component_name="Decision")
    class OutputSerializer(serializers.Serializer):
        slot = serializers.CharField()
        visitor = serializers.CharField(help_text="The visitor's id (as asked when unknown).")
        reason = serializers.CharField(help_text=REASONS)
        explanation = serializers.CharField(help_text="The reason in a sentence.")
        rule = inline_serializer(
            "DecisionRule",
            {
                "id": serializers.IntegerField(),
                "name": serializers.CharField(),
                "segments": serializers.ListField(child=serializers.CharField()),
            },
            allow_null=True,
            help_text="The rule that matched; null for default content.",
        )
        items = inline_serializer(
            "DecidedItem",
            {
                **ItemSerializer().get_fields(),
                "tracking_url": serializers.CharField(
                    allow_null=True,
                    help_text="Link here instead of the item's URL to record clicks (null "
                    "when the item has no URL).",
                ),
            },
            many=True,
        )
        token = serializers.CharField(
            help_text="A signed record of this decision (slot, visitor, items, rule)."
        )
        html = serializers.CharField(
            required=False,
            help_text="With format=html: the blocks as the site renders them, their links "
            "the items' tracking_url.",
        )

    @extend_schema(
        summary="Decide a slot for a visitor",
        description=(
            "Scope `decide:read`. The items a slot shows to a visitor and why. An unknown "
            "visitor gets the slot's default content (reason `unknown_visitor`)."
        ),
        parameters=[InputSerializer],
        responses={
            200: OutputSerializer,
            **errors(
                (400, "`visitor` missing, or `format` not json or html."),
                (404, "No slot with this key."),
            ),
        },
        tags=["slots"],
    )
    def get(self, request: Request, key: str) -> Response:
        params = self.InputSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        if slot_definition(key) is None:
            raise NotFound(f"No slot with key {key!r}.")
        visitor, decision = visitor_decide(slot=key, identifier=params.validated_data["visitor"])
        request_state(request._request).note(decision.source, decision.exposures)  # at the end
        base = tracking_base(request)
        links = {
            item.pk: base + click_token(item=item, visitor=visitor, slot=decision.slot)
            for item in decision.items
            if item_target(item)
        }
        rule = {"id": decision.rule_id, "name": decision.rule_name, "segments": decision.segments}
        body: dict[str, Any] = {
            "slot": decision.slot,
            "visitor": visitor.identifier if visitor else params.validated_data["visitor"],
            "reason": decision.reason,
            "explanation": explanation(decision),
            "rule": rule if decision.rule_id else None,
            "items": [
                item_json(item) | {"tracking_url": links.get(item.pk)} for item in decision.items
            ],
            "token": decision_token(decision, visitor),
        }
        if params.validated_data["format"] == "html":
            # The same tracked links as `items`, so that clicks on the blocks are counted.
            body["html"] = str(SlotRendering(decision, request._request, links=links))
        return Response(self.OutputSerializer(body).data)


class BlocksBatchApi(APIView):
    """Personalized email blocks for up to 1,000 recipients and 20 slots in one call."""

    permission_classes = [BlocksRead]

    @extend_schema_serializer(component_name="BlocksBatchInput")
    class InputSerializer(serializers.Serializer):
        slots = serializers.ListField(
            child=serializers.SlugField(max_length=100), min_length=1, max_length=MAX_SLOTS,
            help_text="Slot keys, 1 to 20.",
        )  # fmt: skip
        recipients = serializers.ListField(
            child=serializers.CharField(max_length=200), min_length=1, max_length=MAX_RECIPIENTS,
            help_text="Visitor ids (external or cookie ids), 1 to 1,000.",
        )  # fmt: skip

        def validate_slots(self, value: list[str]) -> list[str]:
            unknown = [key for key in value if slot_definition(key) is None]
            if unknown:
                raise serializers.ValidationError([f"unknown slot {key!r}" for key in unknown])
            return list(dict.fromkeys(value))

    @extend_schema_serializer(component_name="BlocksBatch")
    class OutputSerializer(serializers.Serializer):
        results = inline_serializer(
            "RecipientBlocks",
            {
                "recipient": serializers.CharField(help_text="As given in `recipients`."),
                "personalized": serializers.BooleanField(
                    help_text="Chosen for this recipient; false: everyone's default content."
                ),
                "note": serializers.CharField(
                    required=False, help_text="Why not personalized, when not."
                ),
                "blocks": serializers.DictField(
                    child=inline_serializer(
                        "EmailBlock",
                        {
                            "html": serializers.CharField(help_text="Email-ready HTML."),
                            "text": serializers.CharField(help_text="The plain-text part."),
                            "items": serializers.ListField(
                                child=serializers.CharField(allow_null=True),
                                help_text="The items' external ids.",
                            ),
                            "reason": serializers.CharField(help_text=REASONS),
                        },
                    ),
                    help_text="Slot key → its block. Links go through signed `/t/` URLs.",
                ),
            },
            many=True,
        )

    @extend_schema(
        summary="Email blocks for many recipients",
        description=(
            "Scope `blocks:read`. For email systems: each recipient's blocks as HTML and text. "
            "Recipients without marketing or personalization consent, and unknown ones, get "
            "each slot's default content, with a note. Links go through `/t/<signed token>`, "
            "which records the click and redirects to the item's own URL."
        ),
        request=InputSerializer,
        responses={
            200: OutputSerializer,
            **errors((400, "Not JSON; 1 to 20 known slots and 1 to 1,000 recipients are needed.")),
        },
        examples=[
            OpenApiExample(
                "Newsletter",
                value={"slots": ["newsletter-top"], "recipients": ["crm-1", "crm-2"]},
                request_only=True,
            )
        ],
        tags=["blocks"],
    )
    def post(self, request: Request) -> Response:
        body = self.InputSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        results = blocks_batch(**body.validated_data, link_base=tracking_base(request))
        # Plain dicts, not the serializer: a thousand recipients would spend most of the call
        # in DRF fields. The schema test checks this shape against OutputSerializer's schema.
        return Response({"results": [
            {"recipient": r.recipient, "personalized": r.personalized,
             **({"note": r.note} if r.note else {}),
             "blocks": {slot: vars(block) for slot, block in r.blocks.items()}}
            for r in results
        ]})  # fmt: skip
