"""Company records through the real path (gateway -> profile -> graph), and the parent
links they make.

    .venv-bench/bin/python bench/company_ingest.py --records 10000

Starts its own platform (free ports, temporary directory). The German B2B generator
(``company_data.py``) makes an ERP, which holds every company once with its parent's
record id, and a CRM, which holds most of them again, dirtier, with the parent's VAT
id. Both are sent as ``mdm import --kind company`` sends them (batches of 500, the
ERP first, in an order where parents often come after their subsidiaries). Printed:
records/s per source (overall and the median batch), what was stored, flagged and
refused; the parent links against the generator's truth; and the time of company
searches through the gateway at that size (median of 20, one client).

Companies are not matched yet: the CRM's record of a company makes a company of its
own. A link is right when the parent company's record is of the true parent; recall
counts the records that name a parent their source can find.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).parent))

import company_data

from mdm_common.graph import GraphClient
from mdm_infra import tokens
from mdm_infra.platform import Platform, PlatformConfig, Ports, Secrets
from mdm_profile.importing.sending import batches

INGEST = """mutation($source: String!, $records: [CompanyRecordInput!]!) {
  ingestCompanyRecords(source: $source, records: $records) {
    created withWarnings refused results { index companyId status }
  }
}"""
SEARCH = """query($name: String, $domain: String) {
  searchCompanies(name: $name, domain: $domain, first: 20) { edges { node { id name } } }
}"""


def _post(client: httpx.Client, url: str, query: str, variables: dict[str, Any]) -> Any:
    body = client.post(url, json={"query": query, "variables": variables}).json()
    if body.get("errors"):
        raise RuntimeError(body["errors"][0]["message"])
    return body["data"]


def _send(
    client: httpx.Client, url: str, source: str, rows: list[dict[str, Any]]
) -> dict[str, Any]:
    """Send a source's records; the company of each record, the rates, the counts."""
    company_of: dict[str, str] = {}
    rates, counts = [], {"created": 0, "withWarnings": 0, "refused": 0}
    started = time.perf_counter()
    for batch in batches(rows, 500):
        records = [{k: v for k, v in r.items() if k not in ("truth", "parentTruth")} for r in batch]
        t = time.perf_counter()
        answer = _post(client, url, INGEST, {"source": source, "records": records})
        rates.append(len(batch) / (time.perf_counter() - t))
        result = answer["ingestCompanyRecords"]
        for key in counts:
            counts[key] += result[key]
        for r in result["results"]:
            if r["companyId"]:
                company_of[batch[r["index"]]["sourceId"]] = r["companyId"]
    wall = time.perf_counter() - started
    return {"company_of": company_of, "wall": wall, "median": statistics.median(rates), **counts}


async def _parents(config: PlatformConfig) -> dict[str, str]:
    graph = GraphClient(
        uri=config.graph.bolt_uri,
        user="root",
        password=config.secrets.graph_password,
        database="profile",
    )
    try:
        rows = await graph.read(
            lambda tx: tx.run(
                "bench.parents",
                "MATCH (c:Company)-[:SUBSIDIARY_OF]->(p:Company) RETURN c.id AS c, p.id AS p",
            )
        )
    finally:
        await graph.close()
    return {row["c"]: row["p"] for row in rows}


def _links(
    sources: dict[str, list[dict[str, Any]]], sent: dict[str, Any], parents: dict[str, str]
) -> str:
    truth_of: dict[str, str] = {}  # company id -> the real company of its record
    for source, rows in sources.items():
        for row in rows:
            company = sent[source]["company_of"].get(row["sourceId"])
            if company:
                truth_of[company] = row["truth"]
    lines = []
    for source, rows in sources.items():
        right = wrong = named = found = 0
        for row in rows:
            company = sent[source]["company_of"].get(row["sourceId"])
            names = row.get("parentSourceId") or row.get("parentVatId")
            if company is None or not row["parentTruth"] or not names:
                continue
            named += 1
            parent = parents.get(company)
            if parent is None:
                continue
            found += 1
            if truth_of.get(parent) == row["parentTruth"]:
                right += 1
            else:
                wrong += 1
        precision = right / (right + wrong) if right + wrong else 1.0
        lines.append(
            f"parent links, {source}: {found} of {named} records that name a parent got one; "
            f"right {right}, wrong {wrong}: precision {precision:.4f}, "
            f"recall {right / max(named, 1):.4f}"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=10_000)
    args = parser.parse_args()
    sources = company_data.german_companies(args.records)
    with tempfile.TemporaryDirectory() as tmp:
        config = PlatformConfig(
            state_dir=Path(tmp) / "platform",
            ports=Ports.free(),
            secrets=Secrets.generate(),
            graph_heap="4g",
        )
        platform = Platform(config)
        platform.start()
        try:
            token = tokens.mint(config.secrets.jwt, subject="bench", roles=["app"])
            headers = {"authorization": f"Bearer {token}"}
            with httpx.Client(headers=headers, timeout=300) as client:
                sent = {
                    s: _send(client, config.gateway_url, s, rows) for s, rows in sources.items()
                }
                parents = asyncio.run(_parents(config))
                timings: dict[str, list[float]] = {"name": [], "domain": []}
                for row in sources["erp"][:20]:
                    domain = row["website"].removeprefix("https://www.")
                    for kind, variables in (
                        ("name", {"name": row["name"][:8]}),
                        ("domain", {"domain": domain}),
                    ):
                        t = time.perf_counter()
                        _post(client, config.gateway_url, SEARCH, variables)
                        timings[kind].append((time.perf_counter() - t) * 1000)
        finally:
            platform.stop()
    for source, result in sent.items():
        count = len(sources[source])
        print(
            f"{source}: {count} records in {result['wall']:.1f} s: {count / result['wall']:.0f} "
            f"records/s overall, median batch {result['median']:.0f}/s; created "
            f"{result['created']}, with warnings {result['withWarnings']}, refused "
            f"{result['refused']}"
        )
    print(_links(sources, sent, parents))
    print(
        f"search at {sum(len(r) for r in sources.values())} companies, median of 20: by name "
        f"prefix {statistics.median(timings['name']):.1f} ms, by domain "
        f"{statistics.median(timings['domain']):.1f} ms"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
