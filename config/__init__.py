"""Tailor's project package: settings, URLs, the Celery app and cross-cutting services."""

from .celery import app as celery_app

__all__ = ["celery_app"]
