"""Recommendations: models, algorithms, training runs and serving."""
