"""Predictive scores: churn risk and purchase propensity per visitor, trained point in time."""
