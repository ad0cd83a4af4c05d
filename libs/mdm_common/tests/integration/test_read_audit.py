"""The read audit at the GraphQL edge with its store on the real graph server: one record
per request, asked by person and by reader; reads refused while it cannot be written."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from typing import Any

import pytest
import strawberry

from mdm_common.auth import Principal, Role
from mdm_common.graph import GraphClient
from mdm_common.graphql import RequestContext, SubgraphSchema, schema_extensions
from mdm_common.read_audit.service import ReadAudits
from mdm_common.settings import ServiceSettings
from mdm_infra.ports import free_port

Info = strawberry.Info[RequestContext, None]


@strawberry.type
class Query:
    @strawberry.field
    async def names(self, info: Info, ids: list[str], pause: float = 0.0) -> list[str]:
        await asyncio.sleep(pause)
        info.context.read_persons(ids)
        info.context.request.state.resolved += 1
        return [f"name of {i}" for i in ids]

    @strawberry.field
    def nobody(self) -> int:
        return 0


class Probe:
    """What the resolver sees of the request: how often it ran."""

    class state:  # noqa: N801 - stands for Starlette's request.state
        resolved = 0


def schema_with(audits: ReadAudits) -> SubgraphSchema:
    settings = ServiceSettings(service_name="probe")
    return SubgraphSchema(query=Query, extensions=schema_extensions(settings, read_audits=audits))


async def run(
    schema: SubgraphSchema, query: str, *, reader: str = "steward-7", name: str | None = None
) -> Any:
    context = RequestContext(
        request=Probe(),  # type: ignore[arg-type]
        response=None,
        principal=Principal(subject=reader, roles=frozenset({Role.STEWARD})),
    )
    return await schema.execute(query, context_value=context, operation_name=name)


async def run_with(
    schema: SubgraphSchema, query: str, variables: dict[str, Any], *, reader: str
) -> None:
    result = await schema.execute(
        query,
        variable_values=variables,
        context_value=RequestContext(
            request=Probe(),  # type: ignore[arg-type]
            response=None,
            principal=Principal(subject=reader, roles=frozenset({Role.APP})),
        ),
    )
    assert result.errors is None


@pytest.fixture
async def audits(graph_for: Callable[[str], GraphClient]) -> ReadAudits:
    graph = graph_for("matching")
    await graph.apply_schema(ReadAudits.SCHEMA)
    return ReadAudits(graph)


def ids(n: int) -> list[str]:
    return [str(uuid.uuid4()) for _ in range(n)]


class TestRecords:
    async def test_one_record_per_request_found_per_person_and_per_reader(
        self, audits: ReadAudits
    ) -> None:
        schema = schema_with(audits)
        reader = f"steward-{uuid.uuid4().hex[:8]}"
        a, b = ids(2)
        query = "query Pair($ids: [String!]!) { names(ids: $ids) }"
        result = await schema.execute(
            query,
            variable_values={"ids": [a, b, a]},
            context_value=RequestContext(
                request=Probe(),  # type: ignore[arg-type]
                response=None,
                principal=Principal(subject=reader, roles=frozenset({Role.STEWARD})),
            ),
        )
        assert result.errors is None

        by_reader = await audits.reads(person_id=None, reader=reader, since=None, first=10)
        assert sorted(r.person_ids[0] for r in by_reader) == sorted([a, b])
        assert {r.id for r in by_reader} == {by_reader[0].id}
        assert {(r.operation, r.fields, r.roles) for r in by_reader} == {
            ("Pair", ("names",), ("steward",))
        }
        [of_a] = await audits.reads(person_id=a, reader=None, since=None, first=10)
        assert of_a.reader == reader
        assert await audits.reads(person_id=a, reader="someone-else", since=None, first=10) == []

    async def test_a_request_that_read_no_person_leaves_no_record(self, audits: ReadAudits) -> None:
        reader = f"steward-{uuid.uuid4().hex[:8]}"
        await run(schema_with(audits), "{ nobody }", reader=reader)
        assert await audits.reads(person_id=None, reader=reader, since=None, first=10) == []


class TestBulkReads:
    """A request reading many persons of neighbouring ids (a reconciling service paging
    in id order) is stored per id prefix; compliance finds every person of it as if
    it were stored one by one, by person and by reader."""

    async def test_each_person_of_a_page_is_found_by_person_and_by_reader(
        self, audits: ReadAudits, graph_for: Callable[[str], GraphClient]
    ) -> None:
        schema = schema_with(audits)
        reader = f"service:{uuid.uuid4().hex[:8]}"
        prefix = uuid.uuid4().hex[:2]
        page = sorted(f"{prefix}{uuid.uuid4().hex[2:]}" for _ in range(60))
        # Random ids of other prefixes: stored one by one. (One sharing the page's
        # prefix would rightly join its group, about one run in eighty.)
        alone = [i for i in ids(8) if not i.startswith(prefix)][:3]
        query = "query Page($ids: [String!]!) { names(ids: $ids) }"
        await run_with(schema, query, {"ids": [*page, *alone]}, reader=reader)
        await audits.log.flush()

        rows = await graph_for("matching").read(  # how it was stored
            lambda tx: tx.run(
                "probe",
                "MATCH (g:PersonDataReadGroup {reader: $reader}) RETURN g.personIds AS ids",
                reader=reader,
            )
        )
        assert [sorted(r["ids"]) for r in rows] == [page]

        by_reader = await audits.reads(person_id=None, reader=reader, since=None, first=500)
        assert sorted(r.person_ids[0] for r in by_reader) == sorted([*page, *alone])
        assert len({r.id for r in by_reader}) == 1
        for person_id in (page[0], page[-1], alone[0]):
            [entry] = await audits.reads(person_id=person_id, reader=None, since=None, first=10)
            assert (entry.reader, entry.operation, entry.fields) == (reader, "Page", ("names",))
        assert await audits.reads(person_id=page[5], reader="other", since=None, first=10) == []
        absent = f"{prefix}{uuid.uuid4().hex[2:]}"  # same prefix, never read
        assert await audits.reads(person_id=absent, reader=None, since=None, first=10) == []

    async def test_pages_and_single_reads_come_newest_first_and_bounded(
        self, audits: ReadAudits
    ) -> None:
        schema = schema_with(audits)
        reader = f"service:{uuid.uuid4().hex[:8]}"
        person = str(uuid.uuid4())
        page = sorted({person, *(f"{person[:2]}{uuid.uuid4().hex[2:]}" for _ in range(20))})
        query = "query Read($ids: [String!]!) { names(ids: $ids) }"
        await run_with(schema, query, {"ids": [person]}, reader=reader)
        await audits.log.flush()
        await run_with(schema, query, {"ids": page}, reader=reader)
        await audits.log.flush()
        await run_with(schema, query, {"ids": [person]}, reader=reader)

        of_person = await audits.reads(person_id=person, reader=None, since=None, first=10)
        assert len(of_person) == 3
        assert [e.at for e in of_person] == sorted((e.at for e in of_person), reverse=True)
        newest_two = await audits.reads(person_id=person, reader=None, since=None, first=2)
        assert newest_two == of_person[:2]
        since = of_person[1].at
        assert (
            await audits.reads(person_id=person, reader=None, since=since, first=10)
            == (of_person[:2])
        )
        by_reader = await audits.reads(person_id=None, reader=reader, since=None, first=5)
        assert len(by_reader) == 5
        assert by_reader[0].id == of_person[0].id  # the last single read
        assert {e.id for e in by_reader[1:]} == {of_person[1].id}  # then the page


class TestRefusal:
    async def test_while_the_audit_cannot_be_written_no_resolver_runs(
        self, graph_for: Callable[[str], GraphClient]
    ) -> None:
        # A real Bolt client to a port where no server listens: every write fails.
        graph = GraphClient(
            uri=f"bolt://127.0.0.1:{free_port()}",
            user="root",
            password="x",
            database="matching",
            connect_timeout_s=0.5,
        )
        audits = ReadAudits(graph)
        schema = schema_with(audits)
        try:
            first = await run(schema, f'{{ names(ids: ["{ids(1)[0]}"]) }}')
            assert first.errors is None  # accepted into the buffer
            with pytest.raises(Exception, match="cannot be written"):
                await audits.log.flush()

            probe = Probe()
            second = await schema.execute(
                '{ names(ids: ["p"]) }',
                context_value=RequestContext(
                    request=probe,  # type: ignore[arg-type]
                    response=None,
                    principal=Principal(subject="s", roles=frozenset({Role.STEWARD})),
                ),
            )
            assert second.data is None
            assert [e.extensions for e in second.errors or []] == [{"code": "UNAVAILABLE"}]
        finally:
            await graph.close()

    async def test_a_result_whose_record_finds_the_buffer_full_is_withheld(
        self, audits: ReadAudits, graph_for: Callable[[str], GraphClient]
    ) -> None:
        full = ReadAudits(graph_for("matching"), capacity=1)
        schema = schema_with(full)
        # Both pass the check at the start; the faster one takes the only place.
        slow, fast = await asyncio.gather(
            run(schema, f'{{ names(ids: ["{ids(1)[0]}"], pause: 0.2) }}'),
            run(schema, f'{{ names(ids: ["{ids(1)[0]}"]) }}'),
        )
        assert fast.errors is None
        assert slow.data is None
        assert [e.extensions for e in slow.errors or []] == [{"code": "UNAVAILABLE"}]
        await full.log.flush()
