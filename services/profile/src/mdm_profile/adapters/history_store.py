"""Cypher for as-of reads: versions of golden records and of links, merges as spans.

    (:Person)-[:HAD_VERSION]->(:PersonVersion {...the golden values, validTo})
    (:Person)-[:HAD_LINKS]->(:LinkVersion {state, validTo})

Value versions are written by the statements that write golden records
(``graph_store.keep_previous_version``), link versions by ``link_history.py``; this
store reads them, and takes them or some of their values out for erasure and
retention.
"""

from __future__ import annotations

from collections.abc import Sequence

from mdm_common.graph import Transaction, as_utc
from mdm_profile.adapters.graph_mapping import CATEGORY_PROPERTIES, person_from
from mdm_profile.adapters.graph_store import HAD_VERSION, PERSON, PERSON_VERSION
from mdm_profile.adapters.link_history import (
    HAD_LINKS,
    LINK_VERSION,
    LIVE_LINKS_OF_P,
    live_state,
)
from mdm_profile.adapters.link_history import state_from as links_state_from
from mdm_profile.adapters.merge_store import MERGE
from mdm_profile.domain.history import LinksVersion, MergeSpan, PersonHistory, Version
from mdm_profile.domain.merging import MergeState
from mdm_profile.domain.privacy import ERASED

_SPAN = "{.survivorId, .mergedId, .at, .state, .undoneAt}"


class GraphHistoryStore:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def merges_naming(self, person_ids: Sequence[str]) -> list[MergeSpan]:
        rows = await self._tx.run(
            "history.merges",
            f"UNWIND $ids AS id MATCH (m:{MERGE} {{survivorId: id}}) RETURN m {_SPAN} AS m "
            f"UNION UNWIND $ids AS id MATCH (m:{MERGE} {{mergedId: id}}) RETURN m {_SPAN} AS m",
            ids=list(person_ids),
        )
        return [
            MergeSpan(
                survivor_id=m["survivorId"],
                merged_id=m["mergedId"],
                at=as_utc(m["at"]),
                state=MergeState(m["state"]),
                undone_at=as_utc(m["undoneAt"]) if m.get("undoneAt") else None,
            )
            for m in (row["m"] for row in rows)
        ]

    async def history(self, person_id: str) -> PersonHistory | None:
        rows = await self._tx.run(
            "history.of_person",
            f"MATCH (p:{PERSON} {{id: $id}}) "
            f"RETURN p {{.*}} AS p, [(p)-[:{HAD_VERSION}]->(v:{PERSON_VERSION}) | v {{.*}}] "
            f"AS versions, [(p)-[:{HAD_LINKS}]->(l:{LINK_VERSION}) | l {{.*}}] AS linkVersions, "
            f"{LIVE_LINKS_OF_P}",
            id=person_id,
        )
        if not rows:
            return None
        props = rows[0]["p"]
        if props.get("status") == ERASED:
            at = as_utc(props["erasedAt"])
            return PersonHistory(person_from({"id": person_id, "createdAt": at}), True, ())
        row = rows[0]
        versions = [
            Version(person_from({**v, "id": person_id}), as_utc(v["validTo"]))
            for v in row["versions"]
        ]
        # Links never recorded (a person stored before link history): as they are now.
        kept = props.get("linksState")
        links = links_state_from(kept) if kept else live_state(row["households"], row["employers"])
        return PersonHistory(
            person_from(props),
            False,
            versions,
            links,
            [
                LinksVersion(links_state_from(v["state"]), as_utc(v["validTo"]))
                for v in row["linkVersions"]
            ],
        )

    async def forget(self, person_ids: Sequence[str]) -> None:
        """Delete the persons' versions of values and of links (erasure)."""
        await self._tx.run(
            "history.forget",
            f"UNWIND $ids AS id MATCH (:{PERSON} {{id: id}})-[:{HAD_VERSION}|{HAD_LINKS}]->"
            "(v) DETACH DELETE v",
            ids=list(person_ids),
        )

    async def clear_categories(self, person_ids: Sequence[str], categories: Sequence[str]) -> None:
        """Empty the values of ``categories`` in the persons' versions (retention)."""
        names = sorted({name for c in categories for name in CATEGORY_PROPERTIES[c]})
        if not names:
            return
        await self._tx.run(
            "history.clear_categories",
            f"UNWIND $ids AS id MATCH (:{PERSON} {{id: id}})-[:{HAD_VERSION}]->"
            f"(v:{PERSON_VERSION}) SET " + ", ".join(f"v.{name} = null" for name in names),
            ids=list(person_ids),
        )
