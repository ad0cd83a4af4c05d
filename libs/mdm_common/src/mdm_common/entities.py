"""Entity representations (``_entities``) checked before strawberry resolves them.

The gateway sends well-formed representations; anything else that reaches a
subgraph is the caller's mistake and gets ``BAD_USER_INPUT``, not a ``TypeError``
from inside the federation resolver.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

from strawberry.federation.schema_directives import Key

from mdm_common.errors import InvalidInput


def check_representations(representations: Sequence[object], types: Mapping[str, Any]) -> None:
    """Refuse representations that name no entity of ``types`` (the schema's type map)
    or whose fields do not fit the entity's ``resolve_reference``."""
    for index, representation in enumerate(representations):
        if not _fits(representation, types):
            raise InvalidInput(
                f"representations[{index}] is not a representation of an entity.",
                field="representations",
            )


def _fits(representation: object, types: Mapping[str, Any]) -> bool:
    if not isinstance(representation, dict):
        return False
    type_name = representation.get("__typename")
    if not isinstance(type_name, str) or type_name not in types:
        return False
    definition = getattr(types[type_name], "definition", None)
    if not any(isinstance(d, Key) for d in getattr(definition, "directives", None) or ()):
        return False
    resolve = getattr(getattr(definition, "origin", None), "resolve_reference", None)
    if resolve is None:
        return True
    keys = {k: v for k, v in representation.items() if k != "__typename"}
    signature = _signature(resolve)
    try:
        signature.bind(**keys, **({"info": None} if "info" in signature.parameters else {}))
    except TypeError:
        return False
    return True


@cache
def _signature(resolve: Any) -> inspect.Signature:
    # Asked once per entity type, not per representation (a federated list sends
    # hundreds); the resolvers are the schema's, a handful per process.
    return inspect.signature(resolve)
