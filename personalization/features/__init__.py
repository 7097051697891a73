"""Profile features of visitors, computed from their events."""
