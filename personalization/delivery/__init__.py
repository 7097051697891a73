"""Delivery: what websites and email systems get from Tailor through the REST API.

* `blocks`: decisions for many recipients at once and email blocks (HTML + text), each
  distinct content rendered once;
* `links`: signed tracking tokens and the clicks they record;
* `related`: interim recommendations and similar items.
"""

from personalization.delivery.blocks import (
    Block,
    RecipientBlocks,
    blocks_batch,
    explanation,
    recipients_decide,
    visitor_decide,
)
from personalization.delivery.links import (
    click_follow,
    click_token,
    click_token_read,
    decision_token,
    item_target,
)
from personalization.delivery.related import Scored, recommendations_for, similar_items

__all__ = [
    "Block",
    "RecipientBlocks",
    "Scored",
    "blocks_batch",
    "click_follow",
    "click_token",
    "click_token_read",
    "decision_token",
    "explanation",
    "item_target",
    "recipients_decide",
    "recommendations_for",
    "similar_items",
    "visitor_decide",
]
