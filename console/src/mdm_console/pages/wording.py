"""The engine's guards in a steward's words.

The matching engine names each identity guard that kept a pair from an automatic
merge ("given names differ"); a steward needs to read what it likely means
("twins?") next to it. Only wording: the decision stays the steward's.
"""

from __future__ import annotations

from typing import Any

from mdm_console.i18n import _


def guards_in_words(conflicts: list[str], explanation: list[dict[str, Any]]) -> list[str]:
    levels = {c["comparison"]: c["level"] for c in explanation}
    same_birth = levels.get("birthDate") == "exact"
    same_family = levels.get("familyName") == "exact"
    same_address = levels.get("address") in ("same street and house number", "same street")
    sentences = []
    for guard in conflicts:
        if guard.startswith("given names differ") and same_birth:
            sentences.append(_("Twins? Same birth date, given names differ."))
        elif guard.startswith("given names differ") and same_family and same_address:
            sentences.append(_("Family members? Same family name and address, given names differ."))
        elif guard.startswith("given names are a male and a female form"):
            sentences.append(_("Two people? The given names are a male and a female form."))
        elif guard == "birth dates differ" and same_family and same_address:
            sentences.append(_("Parent and child? Same name and address, birth dates differ."))
        elif guard.startswith("generational suffixes differ"):
            sentences.append(_("Father and son? Generational suffixes differ (jun./sen.)."))
        else:
            sentences.append(_("Guard: {guard}.").format(guard=_(guard)))
    return sentences
