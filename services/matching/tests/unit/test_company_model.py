"""The company model: blocking, EM training, scoring; generated companies as data."""

from __future__ import annotations

import random

import pytest

from mdm_matching.domain.engine.companies import blocking
from mdm_matching.domain.engine.companies.comparisons import BRANCH_AND_HEAD
from mdm_matching.domain.engine.companies.features import CompanyRecord, make_company_record
from mdm_matching.domain.engine.companies.model import (
    U_FLOOR,
    CompanyParameters,
    CompanyScorer,
    default_company_parameters,
    estimate_u,
    train,
)

STEMS = ["mueller", "schmidt", "weber", "wagner", "becker", "hoffmann", "koch", "richter"]
TRADES = ["bau", "logistik", "maschinenbau", "elektro", "software", "handel", "druck"]


def _data() -> tuple[list[CompanyRecord], dict[str, str]]:
    """Companies with a clean record each, half of them again with a typo or their VAT
    id or register entry left out; a few branches of their head office."""
    rng = random.Random(4)  # noqa: S311 - test data
    records, truth = [], {}
    names = sorted({f"{s} {t}" for s in STEMS for t in TRADES})
    for n, name in enumerate(names):
        postal = f"{10000 + n * 97}"
        values = {
            "register": f"HRB {1000 + n}",
            "vat": f"DE{100000000 + n}",
            "domains": [name.replace(" ", "-") + ".de"],
            "postal_code": postal,
            "street": "Hauptstraße",
            "house_number": str(n % 40 + 1),
        }
        records.append(make_company_record(f"e{n}", name_key=name, **values))
        truth[f"e{n}"] = f"k{n}"
        if n % 2 == 0:
            again = dict(values)
            again.pop(rng.choice(["register", "vat", "domains"]))
            typo = name[:-2] + name[-1] + name[-2] if n % 4 == 0 else name
            records.append(make_company_record(f"c{n}", name_key=typo, **again))
            truth[f"c{n}"] = f"k{n}"
        if n % 7 == 0:
            branch = values | {"postal_code": "99999", "house_number": "1"}
            records.append(
                make_company_record(f"b{n}", name_key=f"{name} niederlassung koeln", **branch)
            )
            truth[f"b{n}"] = f"b{n}"
    return records, truth


@pytest.fixture(scope="module")
def trained() -> tuple[list[CompanyRecord], dict[str, str], CompanyParameters]:
    records, truth = _data()
    return records, truth, train(records, blocking.candidate_pairs(records))


def test_blocking_finds_every_true_pair() -> None:
    records, truth = _data()
    found = {
        frozenset((records[i].id, records[j].id)) for i, j in blocking.candidate_pairs(records)
    }
    true = {
        frozenset((a.id, b.id))
        for i, a in enumerate(records)
        for b in records[i + 1 :]
        if truth[a.id] == truth[b.id]
    }
    assert true <= found


def test_training_learns_that_identifiers_agree_on_duplicates(
    trained: tuple[list[CompanyRecord], dict[str, str], CompanyParameters],
) -> None:
    _, _, parameters = trained
    vat, register = parameters.m[2], parameters.m[1]
    assert vat[0] > 0.9  # duplicates share them
    assert register[0] > 0.9
    # Strangers share a register entry or VAT id only by a data error (not learnt).
    assert parameters.u[1][0] == parameters.u[2][0] == U_FLOOR
    assert sum(parameters.u[2]) == pytest.approx(1)
    # A domain is learnt: the duplicates among random pairs are taken out of its u.
    assert parameters.u[4][0] < estimate_u(_data()[0])[4][0]
    assert CompanyParameters.from_json(parameters.to_json()) == parameters


def test_duplicates_merge_strangers_and_branches_do_not(
    trained: tuple[list[CompanyRecord], dict[str, str], CompanyParameters],
) -> None:
    records, truth, parameters = trained
    scorer = CompanyScorer(parameters)
    sure = set()
    for i, j in blocking.candidate_pairs(records):
        score = scorer.score(records[i], records[j])
        if score.probability >= 0.99 and not score.vetoed:
            sure.add(frozenset((score.left, score.right)))
    true = {p for p in sure if len({truth[x] for x in p}) == 1}
    expected = sum(1 for r in records if r.id.startswith("c"))
    assert sure == true  # no false merge: branches and strangers stay apart
    assert len(true) == expected  # every CRM copy found its ERP record


def test_a_branch_is_vetoed_with_its_reason() -> None:
    head = make_company_record("h", name_key="mueller bau", vat="DE1", register="HRB 1")
    branch = make_company_record(
        "b", name_key="mueller bau niederlassung koeln", vat="DE1", register="HRB 1"
    )
    score = CompanyScorer(default_company_parameters()).score(head, branch)
    assert score.conflicts == (BRANCH_AND_HEAD,)
    levels = {c.comparison: c.level for c in score.contributions}
    assert (levels["vatId"], levels["name"]) == ("same", "exact")


def test_a_pair_is_scored_the_same_either_way_round_with_its_ids_in_order() -> None:
    """The evidence of a pair, and a steward's decision on it, name its sides in the
    order of the pair's key (a NOT_A_MATCH is looked up by it)."""
    scorer = CompanyScorer(default_company_parameters())
    a = make_company_record("b-id", name_key="mueller bau", vat="DE1")
    b = make_company_record("a-id", name_key="mueller bau", postal_code="50667")
    there, back = scorer.score(a, b), scorer.score(b, a)
    assert (there.left, there.right) == (back.left, back.right) == ("a-id", "b-id")
    assert there == back


def test_branches_do_not_make_shared_identifiers_look_common() -> None:
    head = make_company_record("h", name_key="mueller bau", vat="DE1")
    branches = [
        make_company_record(f"b{n}", name_key=f"mueller bau niederlassung ort{n}", vat="DE1")
        for n in range(30)
    ]
    others = [
        make_company_record(f"o{n}", name_key=f"firma {n}", vat=f"DE{n + 2}") for n in range(30)
    ]
    u = estimate_u([head, *branches, *others], samples=20_000)
    assert u[2][0] < 1e-3  # the VAT id of random companies hardly ever agrees


def test_a_word_twice_in_a_name_pairs_no_company_with_itself() -> None:
    twice = make_company_record("a", name_key="mueller mueller bau", postal_code="10115")
    other = make_company_record("b", name_key="mueller bau", postal_code="10115")
    assert list(blocking.candidate_pairs([twice, other])) == [(0, 1)]
