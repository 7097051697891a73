"""Recommenders trained by `compute_recommendations`, compared by `evaluate_recommendations`.

One module per algorithm, all on sparse scipy matrices (visitors x items):

* `interactions`: the matrix (event weights, time decay, consent);
* `popularity`: global, trending (time decay), per segment (cold start);
* `content_based`: TF-IDF over title, tags and metadata, item-item cosine;
* `knn`: item-kNN, shrunk cosine, top neighbours;
* `ease`: EASE, closed form, up to 20,000 items;
* `als`: implicit ALS by conjugate gradient, for larger catalogues;
* `hybrid`: a blend of normalised scores, tuned on validation, stored without pickle;
* `filters`: seen, published, locale, MMR diversity;
* `evaluation`: holdout splits, tuning on validation, metrics at K.
"""
