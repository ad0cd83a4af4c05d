"""Audit of personal-data reads (GDPR Art. 5(2) accountability, Art. 32): records,
the buffered log the subgraphs write them through, the Cypher that stores them."""
