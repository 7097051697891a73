"""Content-based: TF-IDF over each item's title, tags and metadata, item-item cosine.

A visitor's score for an item sums the item's similarity to everything the visitor interacted
with (weighted by confidence), so it works from the first interaction and for items nobody
has touched yet. Cost: TF-IDF is linear in the text; the similarity product is items^2 at
worst (items x `neighbours` kept), scoring a chunk of V visitors is V x items.
"""

from typing import Self

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize

from personalization.recommendations.algorithms.base import (
    Catalogue,
    ItemToItem,
    prune_columns,
)
from personalization.recommendations.algorithms.interactions import Interactions


def item_texts(item_ids: np.ndarray) -> list[str]:
    """One document per item: title, tag slugs with their ancestors' (the tree path), metadata."""
    from content.models import ContentItem

    texts: dict[int, str] = {}
    items = ContentItem.objects.filter(pk__in=item_ids.tolist()).prefetch_related("tags")
    for item in items.only("pk", "title", "metadata"):
        tags = " ".join(
            part for tag in item.tags.all() for part in (tag.path or tag.slug).split("/")
        )
        metadata = item.metadata if isinstance(item.metadata, dict) else {}
        values = " ".join(
            f"{key}_{value}" if isinstance(value, str | bool) else key
            for key, value in sorted(metadata.items())
        )
        # Tags twice: they say more about the subject than a word in a title.
        texts[item.pk] = f"{item.title} {tags} {tags} {values}"
    return [texts.get(int(pk), "") for pk in item_ids]


class ContentBased(ItemToItem):
    name = "content"

    def __init__(self, neighbours: int = 100) -> None:
        self.neighbours = neighbours
        self.weights = sparse.csr_matrix((0, 0), dtype=np.float32)

    def fit(self, data: Interactions, catalogue: Catalogue) -> Self:
        n = len(catalogue.item_ids)
        texts = list(catalogue.texts) or [""] * n
        if not any(text.strip() for text in texts):
            self.weights = sparse.csr_matrix((n, n), dtype=np.float32)
            return self
        words = r"(?u)\b[\w-]{2,}\b"  # slugs such as "trail-running" stay one token
        vectorizer = TfidfVectorizer(token_pattern=words, sublinear_tf=True)
        tfidf = normalize(vectorizer.fit_transform(texts))
        similarity = (tfidf @ tfidf.T).tocsr()
        similarity.setdiag(0)
        self.weights = prune_columns(similarity, self.neighbours)
        return self

    def similarity(self) -> sparse.csr_matrix:
        return self.weights  # cosine of texts: already symmetric
