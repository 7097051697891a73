"""How the OpenAPI document describes Tailor's API keys and error answers.

Imported at start-up to register the API-key scheme. `errors()` gives an operation the error
answers every API-key endpoint has, with the one error body of `config.errors`.
"""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiResponse, extend_schema_serializer
from rest_framework import serializers


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "config.auth.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API key from `manage.py create_api_key`: "
            "`Authorization: Bearer tl_<prefix>_<secret>`.",
        }


@extend_schema_serializer(component_name="ApiError")
class ErrorSerializer(serializers.Serializer):
    message = serializers.CharField()
    code = serializers.CharField()
    errors = serializers.DictField(required=False, help_text="Field name → what is wrong.")
    retry_after_seconds = serializers.IntegerField(required=False, help_text="When throttled.")


def errors(*extra: tuple[int, str]) -> dict[int, OpenApiResponse]:
    """The error answers every API-key endpoint has, plus `extra` (status, description)."""
    described = {
        401: "No API key, or an unknown or revoked one.",
        403: "The API key lacks the scope needed here.",
        429: "Too many requests for this API key: retry after `retry_after_seconds`.",
        **dict(extra),
    }
    return {
        code: OpenApiResponse(ErrorSerializer, description=text) for code, text in described.items()
    }
