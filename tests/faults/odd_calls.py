"""Calls of every root field of a schema with missing and odd arguments, built from
the schema's types (the committed SDL composed into the supergraph), not by hand.

Each call holds one odd thing: a field's required arguments get plain values (unknown
ids), and then, one at a time, every argument and every field of an input object gets
each odd value of its type, or an explicit null where it is optional. A field without
required arguments is called only with odd values: called bare, a mutation of that
kind starts a platform-wide job, which says nothing about bad input.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from graphql import (
    GraphQLArgument,
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputField,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLScalarType,
    GraphQLSchema,
    GraphQLUnionType,
    get_named_type,
)
from graphql.pyutils import Undefined

UNKNOWN_ID = "00000000-0000-4000-8000-000000000000"
HUGE = 20_000
ODD_TEXT = "\u202e\u0000Zoe\u0308 \U0001d518\ufeff\U0001f642\u200b'\"<>{}$\\"

ODD_STRINGS = ("", "   ", "x" * HUGE, ODD_TEXT)
ODD_BY_SCALAR: dict[str, tuple[Any, ...]] = {
    "String": ODD_STRINGS,
    "ID": (*ODD_STRINGS, "not-an-id"),
    "Int": (0, -1, 2**31 - 1, -(2**31)),
    "Float": (0.0, -1.0, 1e308),
    "Boolean": (),
    "DateTime": (
        "",
        "2001-13-45T25:61:00Z",
        "2020-01-01T00:00:00",
        "0001-01-01T00:00:00+00:00",
        "9999-12-31T23:59:59+00:00",
        "2001-01-01T00:00:00+00:00",
        ODD_TEXT,
    ),
    "Date": ("", "2001-02-30", "0001-01-01", "9999-12-31", ODD_TEXT),
}


def plain(type_: GraphQLInputType) -> Any:
    """A well-formed value of ``type_`` that names nothing that exists."""
    if isinstance(type_, GraphQLNonNull):
        return plain(type_.of_type)
    if isinstance(type_, GraphQLList):
        return [plain(type_.of_type)]
    if isinstance(type_, GraphQLEnumType):
        return next(iter(type_.values))
    if isinstance(type_, GraphQLInputObjectType):
        return {name: plain(field.type) for name, field in type_.fields.items() if _required(field)}
    return _plain_scalar(type_)


def _plain_scalar(type_: GraphQLNamedType) -> Any:
    now = datetime.now(UTC)
    values: dict[str, Any] = {"ID": UNKNOWN_ID, "Int": 1, "Float": 1.0, "Boolean": False}
    values |= {"DateTime": now.isoformat(), "Date": now.date().isoformat(), "_Any": {}}
    return values.get(type_.name, "walk")


def odd_values(type_: GraphQLInputType) -> Iterator[Any]:
    """Odd values for one argument or input field: nulls where optional, empty lists,
    and the odd values of the scalar inside (lists get them as their one element)."""
    if not isinstance(type_, GraphQLNonNull):
        yield None
    inner = type_.of_type if isinstance(type_, GraphQLNonNull) else type_
    if isinstance(inner, GraphQLList):
        yield []
        for value in odd_values(inner.of_type):
            if value is not None:
                yield [value]
        return
    if isinstance(inner, GraphQLScalarType):
        yield from ODD_BY_SCALAR.get(inner.name, ())


@dataclass(frozen=True)
class Call:
    """One operation with its variables, and what it is about (for failure messages)."""

    field: str
    about: str
    document: str
    variables: dict[str, Any]


def calls(schema: GraphQLSchema) -> Iterator[Call]:
    for operation, root in (("query", schema.query_type), ("mutation", schema.mutation_type)):
        if root is None:
            continue
        for name, field in sorted(root.fields.items()):
            if not name.startswith("_"):
                yield from _calls_of(operation, name, field)


def _calls_of(operation: str, name: str, field: GraphQLField) -> Iterator[Call]:
    args = field.args
    signature = ", ".join(f"${a}: {arg.type}" for a, arg in args.items())
    passing = ", ".join(f"{a}: ${a}" for a in args)
    document = (
        f"{operation} Walk{f'({signature})' if signature else ''} "
        f"{{ {name}{f'({passing})' if passing else ''} {selection(field.type)} }}"
    )
    base = {a: plain(arg.type) for a, arg in args.items() if _required(arg)}
    if base or operation == "query":
        yield Call(name, "required arguments only", document, base)
    for path, type_ in _paths(args):
        for value in odd_values(type_):
            variables = _with(base, path, value, args)
            yield Call(name, f"{'.'.join(path)} = {_short(value)}", document, variables)


def _required(arg: GraphQLArgument | GraphQLInputField) -> bool:
    """Non-null without a default (graphql-core 3.3 keeps SDL defaults in ``default``)."""
    has_default = arg.default is not None or arg.default_value is not Undefined
    return isinstance(arg.type, GraphQLNonNull) and not has_default


def _paths(args: dict[str, Any]) -> Iterator[tuple[tuple[str, ...], GraphQLInputType]]:
    for name, arg in args.items():
        yield from _paths_in((name,), arg.type)


def _paths_in(
    path: tuple[str, ...], type_: GraphQLInputType
) -> Iterator[tuple[tuple[str, ...], GraphQLInputType]]:
    yield path, type_
    named = get_named_type(type_)
    if isinstance(named, GraphQLInputObjectType):
        for name, field in named.fields.items():
            yield from _paths_in((*path, name), field.type)


def _with(
    base: dict[str, Any], path: tuple[str, ...], value: Any, args: dict[str, Any]
) -> dict[str, Any]:
    """``base`` with ``value`` at ``path``; input objects on the way get their plain value
    (a list of input objects: one element)."""
    variables = dict(base)
    container: dict[str, Any] = variables
    type_: Any = None
    for depth, key in enumerate(path[:-1]):
        type_ = args[key].type if depth == 0 else get_named_type(type_).fields[key].type
        current = container.get(key)
        if current is None:
            current = plain(type_)
        current = [dict(current[0])] if isinstance(current, list) else dict(current)
        container[key] = current
        container = current[0] if isinstance(current, list) else current
    container[path[-1]] = value
    return variables


def selection(type_: GraphQLOutputType) -> str:
    """Every scalar and enum field without required arguments; ``__typename`` only
    for unions and interfaces."""
    named = get_named_type(type_)
    if isinstance(named, GraphQLUnionType | GraphQLInterfaceType):
        return "{ __typename }"
    if not isinstance(named, GraphQLObjectType):
        return ""
    leaves = [
        name
        for name, field in named.fields.items()
        if isinstance(get_named_type(field.type), GraphQLScalarType | GraphQLEnumType)
        and not any(_required(arg) for arg in field.args.values())
    ]
    return "{ " + " ".join(["__typename", *leaves]) + " }"


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:30]}... ({len(text)} chars)"
