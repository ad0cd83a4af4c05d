"""Link history: which household and companies a person belonged to, and until when.

    (:Person {linksState, linksSince})-[:HAD_LINKS]->(:LinkVersion {state, validTo})

A person's links state is its active household membership (household id, role) and
its employers (company id, role, and the source record a link came from), as JSON
with ids only. The statements that change memberships or employers call
:meth:`GraphLinkHistory.record` for the persons they touched: when the state differs
from the one kept on the person, the kept one becomes a version, valid until now.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from mdm_common.graph import Transaction
from mdm_profile.adapters.company_store import COMPANY, WORKS_FOR
from mdm_profile.adapters.graph_store import PERSON
from mdm_profile.adapters.household_facts import HOUSEHOLD, MEMBER_OF
from mdm_profile.domain.history import LinksState

LINK_VERSION = "LinkVersion"
HAD_LINKS = "HAD_LINKS"


def state_json(state: LinksState) -> str:
    return json.dumps(
        {
            "household": list(state.household) if state.household else None,
            "employers": [list(e) for e in state.employers],
        },
        sort_keys=True,
    )


def state_from(text: str) -> LinksState:
    data = json.loads(text)
    household = data.get("household")
    return LinksState(
        household=(household[0], household[1]) if household else None,
        employers=tuple(tuple(e) for e in data.get("employers", ())),
    )


def live_state(households: list[Any], employers: list[Any]) -> LinksState:
    """The state of a person's links as the graph holds them now."""
    active = sorted((h[0], h[1]) for h in households if h[2])
    return LinksState(
        household=active[0] if active else None,
        employers=tuple(sorted(tuple(e) for e in employers)),
    )


# A person ``p``'s links as they are: [household id, role, active] per membership and
# [company id, role, source, source id, via] per employer.
LIVE_LINKS_OF_P = (
    f"[(p)-[m:{MEMBER_OF}]->(h:{HOUSEHOLD}) | [h.id, m.role, coalesce(m.active, false)]] "
    "AS households, "
    f"[(p)-[w:{WORKS_FOR}]->(c:{COMPANY}) | [c.id, w.role, w.source, w.sourceId, w.via]] "
    "AS employers"
)


class GraphLinkHistory:
    def __init__(self, tx: Transaction) -> None:
        self._tx = tx

    async def record(self, person_ids: Iterable[str], *, at: datetime | None = None) -> None:
        """Keep the persons' links state; a changed one's previous state as a version.

        Persons merged away or erased are left alone (an id merged away reads as its
        survivor; erasure removes the history). A person without a state kept was
        stored before link history: its state is kept from now on, with no version
        before it. ``at`` defaults to now (a steward's change that carries no time).
        """
        ids = sorted(set(person_ids))
        if not ids:
            return
        rows = await self._tx.run(
            "link_history.read",
            f"UNWIND $ids AS id MATCH (p:{PERSON} {{id: id}}) WHERE p.status IS NULL "
            f"RETURN id, p.linksState AS kept, {LIVE_LINKS_OF_P}",
            ids=ids,
        )
        changed = []
        for row in rows:
            now = state_json(live_state(row["households"], row["employers"]))
            if now != row["kept"]:
                changed.append({"id": row["id"], "state": now, "previous": row["kept"]})
        if not changed:
            return
        await self._tx.run(
            "link_history.write",
            f"UNWIND $rows AS row MATCH (p:{PERSON} {{id: row.id}}) "
            "FOREACH (previous IN CASE WHEN row.previous IS NULL THEN [] "
            "ELSE [row.previous] END | "
            f"CREATE (p)-[:{HAD_LINKS}]->(:{LINK_VERSION} {{state: previous, validTo: $at}})) "
            "SET p.linksState = row.state, p.linksSince = $at",
            rows=changed,
            at=at or datetime.now(UTC),
        )
