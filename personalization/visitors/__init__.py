"""Visitors: profiles, identity, events, their import and retention, the request context."""
