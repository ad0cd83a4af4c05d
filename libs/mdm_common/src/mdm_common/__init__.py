"""Shared plumbing for the MDM services. Holds no domain knowledge."""
