"""The delivery API: slot decisions, email blocks in bulk, profiles, recommendations, similar."""

from personalization.delivery.api.profiles import ProfileApi, RecommendationsApi, SimilarItemsApi
from personalization.delivery.api.slots import BlocksBatchApi, SlotDecideApi

__all__ = ["BlocksBatchApi", "ProfileApi", "RecommendationsApi", "SimilarItemsApi", "SlotDecideApi"]
