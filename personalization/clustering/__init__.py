"""Visitor clustering: the feature matrix, the models, the choice of k and the descriptions.

No database here (the services in `personalization.clustering.services` read and write it):
`features` (FeatureFrame, FeatureEncoder), `model` (clusters_fit, FittedClusters),
`describe` (centroids and words, the 2-D projection), `synthetic` (populations for tests and
benchmarks).
"""
