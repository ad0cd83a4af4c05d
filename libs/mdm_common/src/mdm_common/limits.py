"""Request limits: one value each, for the gateway and every subgraph.

A limit is a promise as much as a guard: what the schema documents (``contactCheckBatch``
takes 10,000 persons, ``ingestSourceRecords`` 500 records) must pass every limit on
its way. So a service derives its body limit from its largest documented request
(:func:`request_bytes`), and the gateway takes the largest of the services' limits
from ``gateway/limits.json``, which ``make schema`` writes from the same values
(:mod:`mdm_infra.limits`; a contract test fails when the file is stale).
"""

from __future__ import annotations

# What a client's operation may use at the gateway.
MAX_DEPTH = 8
MAX_ALIASES = 15
MAX_TOKENS = 1000

# What a subgraph accepts: the gateway's query plan wraps a client's selection in
# `_entities(representations: ...) { ... on Person { ... } }` (two levels) and adds
# keys, `__typename` and variable definitions (tokens).
SUBGRAPH_MAX_DEPTH = MAX_DEPTH + 2
SUBGRAPH_MAX_ALIASES = MAX_ALIASES
SUBGRAPH_MAX_TOKENS = 2 * MAX_TOKENS

# Room in a body besides its documented list: the operation text, small variables,
# extensions and, on the way to a subgraph, the forwarded claims.
DOCUMENT_BYTES = 64 * 1024
# No service refuses less than this, whatever it documents.
MIN_REQUEST_BYTES = 256 * 1024
_STEP = 64 * 1024

# JSON spelling of one element of a list of ids: a UUID in quotes and a comma.
ID_ITEM_BYTES = len('"00000000-0000-0000-0000-000000000000",')
# Text counted at two bytes a character: UTF-8 spells German and the other
# Latin-script languages of the customers with one or two bytes a letter.
BYTES_PER_CHARACTER = 2


def request_bytes(documented: int) -> int:
    """The body limit of a service whose largest documented request carries
    ``documented`` bytes of list data (rounded up to 64 KiB)."""
    needed = documented + DOCUMENT_BYTES
    return max(MIN_REQUEST_BYTES, -(-needed // _STEP) * _STEP)


def text_bytes(characters: int) -> int:
    """JSON bytes of a string of ``characters`` characters, with its quotes and comma."""
    return characters * BYTES_PER_CHARACTER + 3
