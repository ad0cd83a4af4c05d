"""Matching service: duplicate candidates, steward review and batch re-matching."""
