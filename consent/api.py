"""`GET/POST /api/v1/consent`: the banner's reads and writes, and consent from machine clients."""

from typing import Any

from django.db.models import Model
from django.middleware.csrf import get_token
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_serializer,
    inline_serializer,
)
from rest_framework import exceptions, serializers
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from config.auth import ApiKeyAuthentication, HasScope, api_key, scope
from consent.cookies import consent_cookie_set, visitor_cookie_delete
from consent.registry import subject_resolver
from consent.request import (
    consent_summary,
    request_consent_record,
    request_consent_summary,
    visitor_decided_purposes,
)
from consent.selectors import consent_state, purposes
from consent.services import consent_record

PrivacyAdmin = scope("privacy:admin")
CHOICE_EXAMPLE = {"purposes": {"analytics": True, "personalization": False, "marketing": False}}


class PrivacyAdminOrBrowser(BasePermission):
    """An API key with the `privacy:admin` scope, or a browser that sends no key at all."""

    message = HasScope.message

    def has_permission(self, request: Request, view: APIView) -> bool:
        return api_key(request) is None or PrivacyAdmin().has_permission(request, view)


class BrowserCsrfCheck(SessionAuthentication):
    """A browser's session user, if any; its unsafe requests need a valid CSRF token.

    Unlike SessionAuthentication it checks anonymous browsers too, so that a page on another
    site cannot record consent in a visitor's name. It runs only when no API key authenticated
    the request: machine clients are exempt.
    """

    def authenticate(self, request: Request) -> tuple[Any, None] | None:
        self.enforce_csrf(request)
        user = getattr(request._request, "user", None)
        return (user, None) if user is not None and user.is_active else None


class BrowserCsrfScheme(OpenApiAuthenticationExtension):
    """How the OpenAPI document describes a browser's calls: no key, a CSRF token to post."""

    target_class = BrowserCsrfCheck
    name = "Browser"

    def get_security_definition(self, auto_schema) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "X-CSRFToken",
            "description": "A browser, signed in or not, speaking for itself: posts carry the "
            "token of the `csrftoken` cookie (set by `GET /api/v1/consent`).",
        }


def _visitor_named(identifier: str, *, create: bool) -> Model:
    """The visitor with this external or cookie id; a machine client may name a new external id.

    Whether an id can be a new external id (a cookie id never is) is the resolver's to say.
    """
    resolver = subject_resolver()
    visitor = resolver.resolve(identifier)
    if visitor is not None:
        return visitor
    if not create or resolver.for_external_id is None:
        raise exceptions.NotFound(f"no visitor {identifier!r}")
    return resolver.for_external_id(identifier)


def _visitor_summary(visitor: Model, choices: dict[str, bool] | None = None) -> dict[str, Any]:
    """A named visitor's consent as the API shows it, with `choices` just recorded on top."""
    all_purposes = purposes()
    optional = {p.key for p in all_purposes if not p.is_required}
    state = consent_state(visitor) | (choices or {})
    decided = optional <= (visitor_decided_purposes(visitor) | set(choices or {}))
    return consent_summary(all_purposes=all_purposes, state=state, decided=decided, gpc=False)


class ConsentApi(APIView):
    """The consent of the calling browser, or (API key) of a named visitor: read and record."""

    authentication_classes = [ApiKeyAuthentication, BrowserCsrfCheck]
    permission_classes = [PrivacyAdminOrBrowser]

    class InputSerializer(serializers.Serializer):
        purposes = serializers.DictField(
            child=serializers.BooleanField(),
            allow_empty=False,
            help_text="Purpose key → granted. Required purposes are ignored.",
        )
        visitor_id = serializers.CharField(
            max_length=200,
            required=False,
            help_text="With an API key: the visitor's external or cookie id (a new external id "
            "creates the visitor; an id that reads as a UUID is a cookie id and must exist). "
            "Ignored from a browser, which speaks for itself.",
        )

        def validate_purposes(self, value: dict[str, bool]) -> dict[str, bool]:
            known = {p.key: p for p in purposes()}
            unknown = sorted(set(value) - set(known))
            if unknown:
                raise serializers.ValidationError([f"unknown purpose {key!r}" for key in unknown])
            return {key: granted for key, granted in value.items() if not known[key].is_required}

    class QuerySerializer(serializers.Serializer):
        visitor_id = serializers.CharField(max_length=200)

    @extend_schema_serializer(component_name="ConsentState")
    class OutputSerializer(serializers.Serializer):
        mode = serializers.ChoiceField(
            choices=["opt-in", "opt-out"], help_text="opt-in: nothing optional until agreed to."
        )
        policy_version = serializers.IntegerField(
            allow_null=True, help_text="The privacy policy version choices are recorded under."
        )
        decided = serializers.BooleanField(
            help_text="Whether every optional purpose has been answered; the banner asks if not."
        )
        gpc = serializers.BooleanField(
            help_text="The request carries Global Privacy Control (`Sec-GPC: 1`): no marketing."
        )
        purposes = inline_serializer(
            "ConsentPurposeState",
            {
                "key": serializers.SlugField(),
                "name": serializers.CharField(),
                "description": serializers.CharField(),
                "required": serializers.BooleanField(help_text="Always on; cannot be refused."),
                "granted": serializers.BooleanField(help_text="Allowed now."),
            },
            many=True,
        )

    @extend_schema(
        summary="Read consent",
        description=(
            "From a browser (no key): its own state, from its visitor profile or its consent "
            "cookie; also sets the CSRF cookie a browser needs to post. With an API key "
            "(scope `privacy:admin`): the state of the visitor named by `visitor_id`."
        ),
        parameters=[
            OpenApiParameter(
                "visitor_id",
                str,
                required=False,
                description="With an API key: the visitor's external or cookie id.",
            )
        ],
        responses={
            200: OutputSerializer,
            400: OpenApiResponse(description="An API key without `visitor_id`."),
            403: OpenApiResponse(description="The API key lacks the `privacy:admin` scope."),
            404: OpenApiResponse(description="No such visitor."),
        },
        tags=["consent"],
    )
    def get(self, request: Request) -> Response:
        if api_key(request) is None:
            get_token(request._request)  # the banner's script posts with the CSRF cookie
            return Response(self.OutputSerializer(request_consent_summary(request._request)).data)
        query = self.QuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        visitor = _visitor_named(query.validated_data["visitor_id"], create=False)
        return Response(self.OutputSerializer(_visitor_summary(visitor)).data)

    @extend_schema(
        summary="Record consent",
        description=(
            "From a browser (no key, CSRF token in `X-CSRFToken`): the visitor's banner choice. "
            "A visitor profile and its cookie are created only for analytics or "
            "personalization; a choice without a profile is kept in the `tailor_consent` "
            "cookie, and withdrawing both removes the visitor cookie. With an API key (scope "
            "`privacy:admin`): recorded with source `api` for the visitor named by "
            "`visitor_id`. `Sec-GPC: 1` from a browser keeps marketing refused."
        ),
        request=InputSerializer,
        responses={
            200: OutputSerializer,
            400: OpenApiResponse(description="Not JSON, an unknown purpose, or no `visitor_id`."),
            401: OpenApiResponse(description="Unknown or revoked API key."),
            403: OpenApiResponse(description="No CSRF token, or a key without `privacy:admin`."),
        },
        examples=[OpenApiExample("Analytics only", value=CHOICE_EXAMPLE, request_only=True)],
        tags=["consent"],
    )
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        choices = data.validated_data["purposes"]
        if api_key(request) is not None:
            return self._record_for_visitor(data.validated_data.get("visitor_id"), choices)
        http = request._request
        outcome = request_consent_record(request=http, choices=choices)
        response = Response(self.OutputSerializer(outcome.summary).data)
        consent_cookie_set(
            response,
            request=http,
            choices=outcome.state,
            policy_version=outcome.summary["policy_version"],
        )
        if outcome.forget_visitor:
            visitor_cookie_delete(response)
        return response

    def _record_for_visitor(self, visitor_id: str | None, choices: dict[str, bool]) -> Response:
        if not visitor_id:
            message = "This field is required with an API key."
            raise exceptions.ValidationError({"visitor_id": [message]})
        visitor = _visitor_named(visitor_id, create=True)
        # No request: the client's address and user agent are not the subject's, so not proof.
        consent_record(visitor=visitor, choices=choices, source="api")
        return Response(self.OutputSerializer(_visitor_summary(visitor, choices)).data)
