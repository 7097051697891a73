"""Segments: rule, static and cluster segments, their members and sizes."""
