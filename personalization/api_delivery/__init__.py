"""The delivery API: slot decisions, email blocks in bulk, profiles, recommendations, similar."""

from personalization.api_delivery.profiles import ProfileApi, RecommendationsApi, SimilarItemsApi
from personalization.api_delivery.slots import BlocksBatchApi, SlotDecideApi

__all__ = ["BlocksBatchApi", "ProfileApi", "RecommendationsApi", "SimilarItemsApi", "SlotDecideApi"]
