"""What a record's employer clues decide (``employment.resolve``)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mdm_profile.domain.employment import EmployerClue, Resolution, Via, resolve

N, D = "mueller bau", "mueller.de"  # a name key, a business e-mail domain


def clue(name: str | None = None, domain: str | None = None) -> EmployerClue:
    return EmployerClue("p", "crm", "1", name, domain)


@pytest.mark.parametrize(
    ("found", "by_name", "by_domain", "expected"),
    [
        (clue(N), ["a"], [], Resolution("a", (), Via.COMPANY_NAME)),
        (clue(domain=D), [], ["a"], Resolution("a", (), Via.EMAIL_DOMAIN)),
        (clue(N, D), ["a"], ["a"], Resolution("a", (), Via.NAME_AND_DOMAIN)),
        # The name picks one of the companies at a shared domain (head office, branch).
        (clue(N, D), ["a"], ["a", "b"], Resolution("a", (), Via.NAME_AND_DOMAIN)),
        # A clue that finds nothing says nothing against the other.
        (clue(N, D), ["a"], [], Resolution("a", (), Via.COMPANY_NAME)),
        (clue(N, D), [], ["a"], Resolution("a", (), Via.EMAIL_DOMAIN)),
        # Unsure: a steward chooses.
        (clue(domain=D), [], ["b", "a"], Resolution(None, ("a", "b"), Via.EMAIL_DOMAIN)),
        (clue(N), ["a", "b"], [], Resolution(None, ("a", "b"), Via.COMPANY_NAME)),
        (clue(N, D), ["a"], ["b"], Resolution(None, ("a", "b"), Via.NAME_AND_DOMAIN)),
        (clue(N), [], [], Resolution(None, (), None)),
    ],
)  # fmt: skip
def test_what_the_clues_decide(
    found: EmployerClue, by_name: list[str], by_domain: list[str], expected: Resolution
) -> None:
    assert resolve(found, by_name, by_domain) == expected


ids = st.lists(st.sampled_from("abcdef"), unique=True, max_size=4)


@given(
    name=st.sampled_from([None, "mueller bau"]),
    domain=st.sampled_from([None, "mueller.de"]),
    by_name=ids,
    by_domain=ids,
)
def test_a_link_or_a_proposal_only_ever_names_companies_a_clue_found(
    name: str | None, domain: str | None, by_name: list[str], by_domain: list[str]
) -> None:
    by_name = by_name if name else []
    by_domain = by_domain if domain else []
    found = resolve(clue(name, domain), by_name, by_domain)
    named = set(by_name) | set(by_domain)
    assert found.company_id is None or found.company_id in named
    assert set(found.candidates) <= named
    assert not (found.company_id and found.candidates)  # sure, or for a steward
    assert len(found.candidates) != 1  # never one company to ask about
