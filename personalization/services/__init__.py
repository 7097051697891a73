"""Writes of the personalization app, split by sub-domain."""
