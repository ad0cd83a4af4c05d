from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import strawberry

from mdm_common.auth import Role

if TYPE_CHECKING:
    from mdm_profile.domain.models import Person as PersonModel

READ_ROLES = (Role.APP, Role.STEWARD, Role.COMPLIANCE)
WRITE_ROLES = (Role.APP, Role.STEWARD)


@strawberry.federation.type(keys=["id"], description="A golden customer profile.")
class Person:
    id: strawberry.ID
    given_name: str
    family_name: str
    email: str | None
    created_at: datetime

    @classmethod
    def from_model(cls, person: PersonModel) -> Person:
        return cls(
            id=strawberry.ID(person.id),
            given_name=person.given_name,
            family_name=person.family_name,
            email=person.email,
            created_at=person.created_at,
        )

    @classmethod
    async def resolve_reference(
        cls,
        info: strawberry.Info[Any, Any],
        id: strawberry.ID,  # noqa: A002 - federation passes the key by its field name
    ) -> Person | None:
        info.context.require(*READ_ROLES)
        person = await info.context.persons.load(str(id))
        return cls.from_model(person) if person is not None else None


@strawberry.input(description="A new person as an application submits it.")
class CreatePersonInput:
    given_name: str
    family_name: str
    email: str | None = None
