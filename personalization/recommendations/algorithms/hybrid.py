"""The hybrid: a weighted blend of the components' scores, each normalised per visitor.

Each component's row is divided by its largest value, so weights compare like with like
whatever a model's scale; the weights are tuned on a validation split (see `evaluation`).
The lead component is EASE up to `ease.MAX_ITEMS` items and implicit ALS beyond; ALS, item-kNN,
content, popularity and trending join it when validation says they help.
Cost: the sum of the components' costs; scoring holds one visitors x items block per component.
"""

import io
from typing import Any

import numpy as np
from scipy import sparse

from personalization.recommendations.algorithms.als import Als
from personalization.recommendations.algorithms.base import Catalogue, Recommender, State
from personalization.recommendations.algorithms.content_based import ContentBased
from personalization.recommendations.algorithms.ease import MAX_ITEMS, Ease
from personalization.recommendations.algorithms.interactions import Interactions
from personalization.recommendations.algorithms.knn import ItemKnn
from personalization.recommendations.algorithms.popularity import Popularity, Trending

HYBRID = "hybrid"
ALGORITHMS: dict[str, type[Recommender]] = {
    model.name: model for model in (Popularity, Trending, ContentBased, ItemKnn, Ease, Als)
}
DEFAULT_PARAMETERS: dict[str, dict[str, Any]] = {
    "popularity": {},
    "trending": {"half_life_days": 7.0},
    "content": {"neighbours": 100},
    "item_knn": {"neighbours": 50, "shrinkage": 10.0},
    "ease": {"regularization": 100.0, "neighbours": 200},
    "als": {"factors": 32, "iterations": 8, "regularization": 0.1, "alpha": 10.0},
}
DEFAULT_WEIGHTS = {"ease": 1.0, "item_knn": 0.5, "content": 0.2, "popularity": 0.1}


def collaborative(item_count: int) -> str:
    """EASE while its dense items^2 matrix fits, implicit ALS beyond."""
    return "ease" if item_count <= MAX_ITEMS else "als"


def normalised(scores: np.ndarray) -> np.ndarray:
    """Each row divided by its largest absolute value (rows of zeros stay zeros)."""
    top = np.abs(scores).max(axis=1, keepdims=True) if scores.size else scores
    return np.divide(scores, top, out=np.zeros_like(scores), where=top > 0)


def blend(parts: dict[str, np.ndarray], weights: dict[str, float]) -> np.ndarray:
    total: np.ndarray | None = None
    for name, weight in weights.items():
        if weight and name in parts:
            term = weight * normalised(parts[name])
            total = term if total is None else total + term
    if total is None:
        return np.zeros_like(next(iter(parts.values())))
    return total


class Hybrid(Recommender):
    name = HYBRID

    def __init__(
        self,
        weights: dict[str, float] | None = None,
        parameters: dict[str, dict[str, Any]] | None = None,
        components: dict[str, Recommender] | None = None,
    ) -> None:
        self.weights = dict(weights if weights is not None else DEFAULT_WEIGHTS)
        self.parameters = {**DEFAULT_PARAMETERS, **(parameters or {})}
        self.components: dict[str, Recommender] = dict(components or {})

    def fit(self, data: Interactions, catalogue: Catalogue) -> "Hybrid":
        for name, weight in self.weights.items():
            if weight and name not in self.components:
                model = ALGORITHMS[name](**self.parameters.get(name, {}))
                self.components[name] = model.fit(data, catalogue)
        return self

    def parts(self, matrix: sparse.csr_matrix) -> dict[str, np.ndarray]:
        return {
            name: model.score(matrix)
            for name, model in self.components.items()
            if self.weights.get(name)
        }

    def score(self, matrix: sparse.csr_matrix) -> np.ndarray:
        return blend(self.parts(matrix), self.weights)

    def similarity(self) -> sparse.csr_matrix | None:
        """Collaborative neighbours blended with content neighbours (normalised per item)."""
        blocks = []
        for name, model in self.components.items():
            weight = self.weights.get(name, 0.0)
            matrix = model.similarity()
            if weight and matrix is not None and matrix.nnz:
                top = np.asarray(abs(matrix).max(axis=1).todense()).ravel()
                scale = np.divide(weight, top, out=np.zeros_like(top), where=top > 0)
                blocks.append(sparse.diags(scale) @ matrix)
        return sum(blocks[1:], blocks[0]).tocsr() if blocks else None

    def state(self) -> State:
        raise NotImplementedError("store a hybrid with hybrid_dump")


def hybrid_dump(model: Hybrid, item_ids: np.ndarray) -> bytes:
    """The fitted hybrid as compressed numpy arrays (no pickle), for the model run."""
    arrays = {
        f"{name}.{key}": v for name, m in model.components.items() for key, v in m.state().items()
    }
    names = sorted(model.components)
    arrays["item_ids"] = item_ids
    arrays["weights"] = np.asarray([model.weights.get(name, 0.0) for name in names])
    arrays["names"] = np.asarray(names)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    return buffer.getvalue()


def hybrid_load(blob: bytes) -> tuple[Hybrid, np.ndarray]:
    """The hybrid and its item ids (column order) from `hybrid_dump` bytes."""
    with np.load(io.BytesIO(blob), allow_pickle=False) as stored:
        arrays = {key: stored[key] for key in stored.files}
    names = [str(name) for name in arrays["names"]]
    components = {
        name: ALGORITHMS[name].from_state(
            {key.split(".", 1)[1]: v for key, v in arrays.items() if key.startswith(f"{name}.")}
        )
        for name in names
    }
    weights = dict(zip(names, (float(w) for w in arrays["weights"]), strict=True))
    return Hybrid(weights=weights, components=components), arrays["item_ids"]
