"""Cypher for persons. Labels come from constants; every value is a parameter."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mdm_common.graph import Transaction, as_utc
from mdm_profile.domain.models import Person

PERSON = "Person"

SCHEMA = (f"CREATE CONSTRAINT person_id IF NOT EXISTS FOR (p:{PERSON}) REQUIRE p.id IS UNIQUE",)


class GraphPersonStore:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def add(self, person: Person) -> None:
        await self._tx.run(
            "person.create",
            f"CREATE (p:{PERSON} {{id: $id}}) SET p += $props",
            id=person.id,
            props={
                "givenName": person.given_name,
                "familyName": person.family_name,
                "email": person.email,
                "createdAt": person.created_at,
            },
        )

    async def get_many(self, ids: Sequence[str]) -> dict[str, Person]:
        rows = await self._tx.run(
            "person.get_many",
            f"UNWIND $ids AS id MATCH (p:{PERSON} {{id: id}}) RETURN p {{.*}} AS p",
            ids=list(ids),
        )
        return {row["p"]["id"]: _person(row["p"]) for row in rows}


def _person(props: dict[str, Any]) -> Person:
    return Person(
        id=props["id"],
        given_name=props["givenName"],
        family_name=props["familyName"],
        email=props.get("email"),
        created_at=as_utc(props["createdAt"]),
    )
