"""The decision engine: which items a slot shows to a visitor, and why."""
