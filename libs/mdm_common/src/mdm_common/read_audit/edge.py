"""The read audit at the GraphQL edge: one record per request that read persons' data,
and the type compliance reads the audit through.

Resolvers name the persons whose data they return (``RequestContext.read_persons``);
:class:`ReadAuditing` turns what a request named into one record when the operation
ends. It refuses an operation before any resolver runs while the audit cannot be
written, and withholds a result whose record could not be accepted. A read that ran
while its gateway signature's first use was still being confirmed
(:data:`mdm_common.auth.FIRST_USE_SCOPE_KEY`) is recorded once that is confirmed; a
replay's answer never leaves, so it leaves no record either.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Iterator
from datetime import UTC, datetime

import strawberry
from graphql import ExecutionResult, FieldNode, GraphQLError, OperationDefinitionNode
from strawberry.extensions import SchemaExtension
from strawberry.types import ExecutionContext

from mdm_common.auth import FIRST_USE_SCOPE_KEY
from mdm_common.read_audit.log import AuditUnavailable, ReadAuditLog
from mdm_common.read_audit.records import ReadAudit, ReadTrail, roles_of

_MAX_NAME = 100
_MAX_FIELDS = 20


class ReadAuditing(SchemaExtension):
    """Strawberry extension (one per request) writing the request's read-audit record."""

    def __init__(self, *, log: ReadAuditLog) -> None:
        self._log = log

    def on_execute(self) -> Iterator[None]:
        if not self._log.writable:
            # A result set here stands for the execution: no resolver runs, nothing
            # is read or written.
            self.execution_context.result = _unavailable(
                AuditUnavailable("The read audit cannot be written; try again.")
            )
        yield

    async def on_operation(self) -> AsyncIterator[None]:
        yield
        ctx = self.execution_context
        trail: ReadTrail | None = getattr(ctx.context, "read_trail", None)
        principal = getattr(ctx.context, "principal", None)
        if trail is None or principal is None or not trail.person_ids:
            return
        first_use = _first_use(ctx)
        if first_use is not None and not await first_use:
            return  # a replayed request: refused at the edge, nothing leaves
        record = ReadAudit(
            id=str(uuid.uuid4()),
            reader=principal.subject,
            roles=roles_of(principal),
            operation=(ctx.operation_name or "anonymous")[:_MAX_NAME],
            person_ids=trail.person_ids,
            at=datetime.now(UTC),
            fields=_root_fields(ctx),
        )
        try:
            self._log.submit(record)
        except AuditUnavailable as exc:
            # Read, but not audited: the data does not leave. Changed in place: the
            # result object is what strawberry returns after this hook.
            if ctx.result is not None:
                ctx.result.data = None
                ctx.result.errors = [_error(exc)]


def _first_use(ctx: ExecutionContext) -> Awaitable[bool] | None:
    request = getattr(ctx.context, "request", None)
    scope = getattr(request, "scope", None)
    return scope.get(FIRST_USE_SCOPE_KEY) if isinstance(scope, dict) else None


def _unavailable(exc: AuditUnavailable) -> ExecutionResult:
    return ExecutionResult(data=None, errors=[_error(exc)])


def _error(exc: AuditUnavailable) -> GraphQLError:
    return GraphQLError(exc.message, original_error=exc)


def _root_fields(ctx: ExecutionContext) -> tuple[str, ...]:
    document = ctx.graphql_document
    if document is None:
        return ()
    for definition in document.definitions:
        if not isinstance(definition, OperationDefinitionNode):
            continue
        name = definition.name.value if definition.name else None
        if ctx.operation_name is None or name == ctx.operation_name:
            return tuple(
                s.name.value[:_MAX_NAME]
                for s in definition.selection_set.selections[:_MAX_FIELDS]
                if isinstance(s, FieldNode)
            )
    return ()


@strawberry.federation.type(
    shareable=True,
    description="One request that read a person's data: who, with which roles, through "
    "which operation, when. Kept for accountability (GDPR Art. 5(2)).",
)
class PersonDataRead:
    audit_id: strawberry.ID = strawberry.field(
        description="The request's audit record; shared by the persons it read."
    )
    person_id: strawberry.ID
    reader: str = strawberry.field(description="The token's subject.")
    roles: list[str]
    operation: str = strawberry.field(description="The operation name ('anonymous': none).")
    fields: list[str] = strawberry.field(description="The operation's root fields.")
    at: datetime

    @classmethod
    def from_model(cls, record: ReadAudit) -> PersonDataRead:
        return cls(
            audit_id=strawberry.ID(record.id),
            person_id=strawberry.ID(record.person_ids[0]),
            reader=record.reader,
            roles=list(record.roles),
            operation=record.operation,
            fields=list(record.fields),
            at=record.at,
        )
