"""Match subjects, blocking keys and review tasks against the real graph server."""

from __future__ import annotations

import random
import string
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from mdm_common.graph import GraphClient, Transaction
from mdm_matching.adapters.graph_store import SCHEMA, GraphSubjectStore
from mdm_matching.adapters.review_store import GraphReviewStore
from mdm_matching.adapters.transactions import GraphTransactions
from mdm_matching.domain import subjects
from mdm_matching.domain.engine import blocking
from mdm_matching.domain.engine.features import MatchRecord, fingerprint, make_record
from mdm_matching.domain.engine.model import Scorer, default_parameters
from mdm_matching.domain.models import TaskFilter, TaskOrder, TaskReason, TaskStatus
from mdm_matching.domain.online import evidence_of
from mdm_matching.domain.ports import ProfileView, SubjectFeatures

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def _made_up(name: str) -> str:
    """A name of the test's own. Names are blocking keys through their Kölner Phonetik,
    which ignores digits: a hex tag would collide with other tests' names."""
    rng = random.Random(uuid.uuid4().int)  # noqa: S311 - a throwaway name, not a secret
    return name + "".join(rng.choice(string.ascii_lowercase) for _ in range(8))


def _postal_code() -> str:
    """A postal code of the test's own (with a name, it is a blocking key)."""
    return str(10000 + uuid.uuid4().int % 90000)


async def _save(tx: Transaction, record: MatchRecord) -> None:
    """What online matching stores of a newcomer: its subject, features and keys."""
    store = GraphSubjectStore(tx)
    await store.register(record.id, at=NOW)
    await store.save_features(
        record, keys=blocking.keys_of(record), fingerprint=fingerprint(record), at=NOW, sources=[]
    )


async def _graph(graph_for: Callable[[str], GraphClient]) -> GraphClient:
    graph = graph_for("matching")
    await graph.apply_schema(SCHEMA)
    return graph


async def test_registration_is_idempotent(graph_for: Callable[[str], GraphClient]) -> None:
    graph = await _graph(graph_for)
    person_id = str(uuid.uuid4())
    for at in (NOW, NOW + timedelta(minutes=5)):  # a redelivered event
        await graph.write(
            lambda tx, at=at: subjects.register(person_id, subjects=GraphSubjectStore(tx), now=at)
        )
    found = await graph.read(lambda tx: GraphSubjectStore(tx).get_many([person_id, "unknown"]))
    assert list(found) == [person_id]
    assert found[person_id].registered_at == NOW


async def test_candidates_share_a_key_and_skip_merged_and_oversized_blocks(
    graph_for: Callable[[str], GraphClient],
) -> None:
    graph = await _graph(graph_for)
    tag = uuid.uuid4().hex[:8]  # keeps this test's blocks apart from other tests' data
    family = _made_up("Weber")
    a = make_record(f"a{tag}", given="Anna", family=family, email=f"anna{tag}@example.org")
    b = make_record(f"b{tag}", given="Anne", family=family, email=f"anna{tag}@example.org")
    c = make_record(f"c{tag}", given="Carl", family="Other", email=f"anna{tag}@example.org")

    for record in (a, b, c):
        await graph.write(lambda tx, r=record: _save(tx, r))
    await graph.write(lambda tx: _save(tx, a))  # saving again keeps block sizes right

    def found(max_block: int) -> object:
        return graph.read(lambda tx: GraphSubjectStore(tx).sharing_keys(
            a.id, blocking.keys_of(a), max_block=max_block, limit=10))  # fmt: skip

    assert {r.id for r in await found(10)} == {b.id, c.id}  # type: ignore[attr-defined]
    assert next(r for r in await found(10) if r.id == b.id) == b  # type: ignore[attr-defined]
    # The e-mail key has three subjects: with blocks of at most two it is skipped,
    # and only b still shares a (name) key with a.
    assert {r.id for r in await found(2)} == {b.id}  # type: ignore[attr-defined]
    await graph.write(lambda tx: GraphSubjectStore(tx).set_merged_into(b.id, a.id))
    assert {r.id for r in await found(2)} == {c.id}  # type: ignore[attr-defined]

    # Training learns from the merged-away subject too: it is a duplicate EM should see.
    transactions = GraphTransactions(graph)
    active = {r.id for r in await subjects.all_active_features(transactions)}
    training = {r.id for r in await subjects.all_training_features(transactions)}
    assert {a.id, c.id} <= active
    assert b.id not in active
    # The sync's ids of active subjects are the same subjects, read page by page.
    assert set(await subjects.all_active_ids(transactions, page=1)) == active
    assert {a.id, b.id, c.id} <= training


async def test_features_are_saved_without_keys_and_keys_follow_a_change(
    graph_for: Callable[[str], GraphClient],
) -> None:
    graph = await _graph(graph_for)
    tag = uuid.uuid4().hex[:8]
    bare = make_record(f"bare{tag}", given=_made_up("Quirin"))  # no key: no family name
    assert blocking.keys_of(bare) == []
    family, here = _made_up("Kranich"), _postal_code()
    moved = make_record(f"m{tag}", given="Ida", family=family, postal_code=here)
    other = make_record(f"o{tag}", given="Ida", family=family, postal_code=here)

    for record in (bare, moved, other):
        await graph.write(lambda tx, r=record: _save(tx, r))
    found = await graph.read(lambda tx: GraphSubjectStore(tx).features([bare.id, moved.id]))
    assert found == {bare.id: bare, moved.id: moved}

    def sharing() -> object:
        return graph.read(lambda tx: GraphSubjectStore(tx).sharing_keys(
            other.id, blocking.keys_of(other), max_block=10, limit=10))  # fmt: skip

    assert [r.id for r in await sharing()] == [moved.id]  # type: ignore[attr-defined]
    # Moved away with a new family name: no key in common with ``other`` any more.
    moved = make_record(
        moved.id, given="Ida", family=_made_up("Storch"), postal_code=_postal_code()
    )
    await graph.write(lambda tx: _save(tx, moved))
    assert await sharing() == []


async def test_the_candidates_sharing_the_rarest_keys_come_first(
    graph_for: Callable[[str], GraphClient],
) -> None:
    graph = await _graph(graph_for)
    tag = uuid.uuid4().hex[:8]
    family, here = _made_up("Zaunkoenig"), _postal_code()
    newcomer = make_record(f"n{tag}", given="Lotte", family=family, postal_code=here,
                           email=f"lotte.z{tag}@example.org")  # fmt: skip
    # Eight namesakes in the same postal code share the name keys with the newcomer;
    # one of them also shares its e-mail address (a key of two).
    namesakes = [make_record(f"s{i}{tag}", given="Lotte", family=family, postal_code=here)
                 for i in range(8)]  # fmt: skip
    twin_mail = make_record(f"t{tag}", given="Lotta", family=family, postal_code=here,
                            email=f"lotte.z{tag}@example.org")  # fmt: skip
    records = [*namesakes, twin_mail, newcomer]
    await graph.write(lambda tx: GraphSubjectStore(tx).save_many(
        [SubjectFeatures(r, tuple(blocking.keys_of(r)), fingerprint(r)) for r in records],
        at=NOW))  # fmt: skip

    def sharing(limit: int) -> object:
        return graph.read(lambda tx: GraphSubjectStore(tx).sharing_keys(
            newcomer.id, blocking.keys_of(newcomer), max_block=200, limit=limit))  # fmt: skip

    assert [r.id for r in await sharing(1)] == [twin_mail.id]  # type: ignore[attr-defined]
    everyone = [r.id for r in await sharing(50)]  # type: ignore[attr-defined]
    assert everyone[0] == twin_mail.id
    assert sorted(everyone[1:]) == everyone[1:] == sorted(r.id for r in namesakes)


async def test_one_task_per_pair_ordered_by_probability(
    graph_for: Callable[[str], GraphClient],
) -> None:
    graph = await _graph(graph_for)
    scorer = Scorer(default_parameters())
    tag = uuid.uuid4().hex[:8]
    anchor = make_record(f"x{tag}", given="Jürgen", family="Müller", postal_code="10115")
    others = [make_record(f"y{i}{tag}", given=g, family="Müller", postal_code="10115")
              for i, g in enumerate(["Jürgen", "Juergen", "J"])]  # fmt: skip
    scores = [scorer.score(anchor, o) for o in others]
    prints = {r.id: fingerprint(r) for r in (anchor, *others)}
    for score in scores:
        for _ in range(2):  # proposing the same pair again refreshes its task
            evidence = evidence_of(score, prints)
            await graph.write(lambda tx, e=evidence: GraphReviewStore(tx).open_task(
                str(uuid.uuid4()), e, reason=TaskReason.UNCERTAIN, at=NOW))  # fmt: skip

    wanted = TaskFilter(statuses=(TaskStatus.OPEN,), person_id=anchor.id)
    order = TaskOrder.PROBABILITY_DESC
    page = await graph.read(
        lambda tx: GraphReviewStore(tx).tasks(wanted, order=order, after=None, limit=2)
    )
    assert page.has_more
    last = page.sort_keys[-1]
    rest = await graph.read(
        lambda tx: GraphReviewStore(tx).tasks(wanted, order=order, after=last, limit=2)
    )
    tasks = page.tasks + rest.tasks
    assert len(tasks) == 3
    assert not rest.has_more
    probabilities = [t.evidence.probability for t in tasks]
    assert probabilities == sorted(probabilities, reverse=True)
    by_pair = {(s.left, s.right): s for s in scores}
    for task in tasks:  # each task keeps its pair's score and explanation exactly
        score = by_pair[(task.evidence.left_id, task.evidence.right_id)]
        assert task.evidence.probability == score.probability
        assert task.evidence.contributions == score.contributions

    closed = await graph.write(lambda tx: GraphReviewStore(tx).close_tasks_of(anchor.id, at=NOW))
    assert closed == 3


async def test_a_persons_tasks_are_found_and_closed_on_either_side_of_the_pair(
    graph_for: Callable[[str], GraphClient],
) -> None:
    graph = await _graph(graph_for)
    scorer = Scorer(default_parameters())
    tag = uuid.uuid4().hex[:8]
    family, here = _made_up("Amsel"), _postal_code()
    # Pair keys sort the ids: "m" is right of "a" and left of "z".
    middle = make_record(f"m{tag}", given="Jonas", family=family, postal_code=here)
    left = make_record(f"a{tag}", given="Jona", family=family, postal_code=here)
    right = make_record(f"z{tag}", given="Jonah", family=family, postal_code=here)
    prints = {r.id: fingerprint(r) for r in (middle, left, right)}
    evidence = [evidence_of(scorer.score(middle, other), prints) for other in (left, right)]
    for e in evidence:
        await graph.write(lambda tx, e=e: GraphReviewStore(tx).open_task(
            str(uuid.uuid4()), e, reason=TaskReason.UNCERTAIN, at=NOW))  # fmt: skip
    assert (evidence[0].right_id, evidence[1].left_id) == (middle.id, middle.id)

    found = await graph.read(lambda tx: GraphReviewStore(tx).open_tasks_of([middle.id, left.id]))
    assert {t.evidence.pair_key for t in found[middle.id]} == {e.pair_key for e in evidence}
    probabilities = [t.evidence.probability for t in found[middle.id]]
    assert probabilities == sorted(probabilities, reverse=True)
    assert [t.evidence.pair_key for t in found[left.id]] == [evidence[0].pair_key]

    closed = await graph.write(lambda tx: GraphReviewStore(tx).close_tasks_of(middle.id, at=NOW))
    assert closed == 2
    after = await graph.read(lambda tx: GraphReviewStore(tx).open_tasks_of([middle.id]))
    assert after == {middle.id: []}


async def test_identifiers_are_stored_read_back_and_make_candidates(
    graph_for: Callable[[str], GraphClient],
) -> None:
    graph = await _graph(graph_for)
    tag = uuid.uuid4().hex[:8]
    number = ("SOCIAL_SECURITY", "AU", f"9{uuid.uuid4().int % 10**9:09d}")
    # Nothing else in common: only the shared number makes them candidates.
    online = make_record(f"i{tag}", given=_made_up("Quirin"), family=_made_up("Kranich"),
                         identifiers=[number, ("CUSTOMER_NUMBER", "crm", f"C{tag}")])  # fmt: skip
    batch = make_record(f"j{tag}", given=_made_up("Ida"), family=_made_up("Storch"),
                        identifiers=[number])  # fmt: skip
    await graph.write(lambda tx: _save(tx, online))
    stored = SubjectFeatures(batch, tuple(blocking.keys_of(batch)), fingerprint(batch))
    await graph.write(lambda tx: GraphSubjectStore(tx).save_many([stored], at=NOW))

    found = await graph.read(lambda tx: GraphSubjectStore(tx).features([online.id, batch.id]))
    assert found == {online.id: online, batch.id: batch}
    assert found[online.id].identifiers == (f"CUSTOMER_NUMBER:CRM:C{tag}".upper(),
                                            f"SOCIAL_SECURITY:AU:{number[2]}")  # fmt: skip
    candidates = await graph.read(lambda tx: GraphSubjectStore(tx).sharing_keys(
        batch.id, blocking.keys_of(batch), max_block=10, limit=10))  # fmt: skip
    assert candidates == [online]

    # The identifiers removed: the property and the shared block go.
    plain = make_record(online.id, given=online.given, family=online.family)
    await graph.write(lambda tx: _save(tx, plain))
    found = await graph.read(lambda tx: GraphSubjectStore(tx).features([online.id]))
    assert found[online.id].identifiers == ()
    assert fingerprint(found[online.id]) == fingerprint(plain)
    candidates = await graph.read(lambda tx: GraphSubjectStore(tx).sharing_keys(
        batch.id, blocking.keys_of(batch), max_block=10, limit=10))  # fmt: skip
    assert candidates == []


@dataclass
class _Profiles:
    """The profile service's persons as they are now (an in-memory port double)."""

    persons: dict[str, MatchRecord]
    merged_into: dict[str, str] = field(default_factory=dict)
    asked: list[list[str]] = field(default_factory=list)

    async def fetch_many(self, person_ids: Sequence[str]) -> dict[str, ProfileView]:
        self.asked.append(list(person_ids))
        return {
            i: ProfileView(i, self.persons[self.merged_into.get(i, i)], NOW, ("crm", "shop"))
            for i in person_ids
            if i in self.persons
        }


async def test_merge_events_are_taken_into_account_together(
    graph_for: Callable[[str], GraphClient],
) -> None:
    """A pass of merge events: the merged persons leave the candidates (keys gone,
    tasks closed), each survivor is read once and stored as it is now; a survivor
    merged away by a later event of the pass is not stored as active. Again: nothing
    changes (a redelivered pass)."""
    graph = await _graph(graph_for)
    transactions = GraphTransactions(graph)
    tag = uuid.uuid4().hex[:8]
    family, here = _made_up("Lerche"), _postal_code()
    a, b, c, d, e = (
        make_record(f"{n}{tag}", given=g, family=family, postal_code=here)
        for n, g in zip("abcde", ["Ute", "Uta", "Karl", "Carl", "Emil"], strict=True)
    )
    for record in (a, b, c, d, e):
        await graph.write(lambda tx, r=record: _save(tx, r))
    evidence = evidence_of(
        Scorer(default_parameters()).score(b, e), {b.id: fingerprint(b), e.id: fingerprint(e)}
    )
    task_id = str(uuid.uuid4())
    await graph.write(
        lambda tx: GraphReviewStore(tx).open_task(
            task_id, evidence, reason=TaskReason.UNCERTAIN, at=NOW
        )
    )
    # The profile service merged b into a (a's golden record took b's e-mail), d into c,
    # then c into a.
    email = f"ute{tag}@example.org"
    a_now = make_record(a.id, given="Ute", family=family, postal_code=here, email=email)
    profiles = _Profiles(
        {p.id: p for p in (a_now, b, c, d, e)}, {b.id: a.id, d.id: a.id, c.id: a.id}
    )
    events = [(b.id, a.id), (d.id, c.id), (c.id, a.id)]
    later = NOW + timedelta(minutes=1)
    keys = blocking.keys_of(e)

    for _ in range(2):
        await subjects.on_persons_merged(
            events,
            profiles=profiles,
            transactions=transactions,
            now=later,  # type: ignore[arg-type]
        )
        found = await graph.read(
            lambda tx: GraphSubjectStore(tx).get_many([a.id, b.id, c.id, d.id, e.id])
        )
        merged_into = {i: s.merged_into for i, s in found.items()}
        assert merged_into == {a.id: None, b.id: a.id, c.id: a.id, d.id: c.id, e.id: None}
        features = await graph.read(lambda tx: GraphSubjectStore(tx).features([a.id]))
        assert features == {a.id: a_now}
        sharing = await graph.read(
            lambda tx: GraphSubjectStore(tx).sharing_keys(e.id, keys, max_block=50, limit=50)
        )
        assert [r.id for r in sharing] == [a.id]
        tasks = await graph.read(lambda tx: GraphReviewStore(tx).open_tasks_of([b.id]))
        assert tasks == {b.id: []}
    assert profiles.asked == [sorted([a.id, c.id])] * 2  # each survivor once per pass
