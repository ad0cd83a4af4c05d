"""Data quality at ingestion: normalisers that fix what they can and report the rest.

Every normaliser is pure and returns the cleaned value together with what it did
(:class:`Fix`) and what it found wrong (:class:`Issue`), so a record's quality
report says exactly why a value looks the way it does.
"""
