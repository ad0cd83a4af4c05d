"""Consent service: processing purposes and each person's consent history."""
