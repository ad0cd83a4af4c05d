"""Profile service: golden person profiles and their relationship graph."""
