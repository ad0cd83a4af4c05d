"""Metrics: bounded operation labels, gauges read at scrape time, /metrics for allowed
networks only."""

from __future__ import annotations

from ipaddress import ip_network

import pytest
from prometheus_client import CollectorRegistry
from starlette.requests import Request
from starlette.responses import Response

from mdm_common.metrics import Gauges, Values, _OperationNames, metrics_endpoint, single


class TestOperationNames:
    def test_names_become_labels_until_the_limit(self) -> None:
        names = _OperationNames(limit=2)
        assert [names.label(n) for n in ("A", "B", "C", "A")] == ["A", "B", "other", "A"]

    @pytest.mark.parametrize("name", ["anna@example.org", "x" * 101, "", "Grüße"])
    def test_what_is_not_a_graphql_name_is_other(self, name: str) -> None:
        assert _OperationNames(limit=10).label(name) == "other"

    def test_no_name_is_anonymous(self) -> None:
        assert _OperationNames(limit=10).label(None) == "anonymous"


class TestGauges:
    async def test_a_failing_source_is_left_out_and_the_others_are_read(self) -> None:
        gauges = Gauges(min_interval_s=0)

        async def works() -> Values:
            return single(3.0)

        async def fails() -> Values:
            raise ConnectionError("graph down")

        gauges.add("probe.works", works, description="")
        gauges.add("probe.fails", fails, description="")
        await gauges.refresh()
        assert gauges._values == {"probe.works": {(): 3.0}}

    async def test_scrapes_in_quick_succession_read_once(self) -> None:
        gauges = Gauges(min_interval_s=60)
        calls = []

        async def counted() -> Values:
            calls.append(1)
            return single(1.0)

        gauges.add("probe.counted", counted, description="")
        await gauges.refresh()
        await gauges.refresh()
        assert len(calls) == 1


class TestEndpoint:
    async def scrape(self, allowed: str) -> Response:
        endpoint = metrics_endpoint(CollectorRegistry(), Gauges(), allowed=[ip_network(allowed)])
        scope = {
            "type": "http",
            "method": "GET",
            "path": "/metrics",
            "headers": [],
            "query_string": b"",
            "client": ("10.1.2.3", 50000),
        }
        return await endpoint(Request(scope))

    async def test_a_scraper_of_an_allowed_network_reads_it(self) -> None:
        response = await self.scrape("10.1.2.0/24")
        assert response.status_code == 200
        assert response.media_type is not None
        assert response.media_type.startswith("text/plain")

    async def test_anyone_else_finds_nothing(self) -> None:
        assert (await self.scrape("127.0.0.0/8")).status_code == 404
