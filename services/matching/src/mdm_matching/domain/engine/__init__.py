"""The match engine: features, blocking, comparisons, Fellegi-Sunter model, clustering.

Pure Python without I/O; the use cases in ``mdm_matching.domain`` feed it from the
stores and apply its decisions.
"""
