"""The match engine: features, blocking, comparisons, Fellegi-Sunter model, clustering.

Without I/O; the use cases in ``mdm_matching.domain`` feed it from the stores and
apply its decisions. Pairs one at a time (online matching) in plain Python; many
pairs at once (blocking, training, scoring a whole base) column-wise with numpy
(``batch_*.py``), deciding exactly alike.
"""
