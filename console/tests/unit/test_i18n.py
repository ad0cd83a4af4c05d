"""Every message the console shows has its German translation."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from mdm_console import i18n

PACKAGE = Path(i18n.__file__).resolve().parent
CATALOGUES = PACKAGE / "translations" / "{language}" / "LC_MESSAGES"
# Enums the pages show through the |words filter (schema words, not extracted).
SHOWN_ENUMS = (
    "ReviewReason",
    "ReviewStatus",
    "Verdict",
    "RematchStatus",
    "RematchPhase",
    "Channel",
    "ContactReason",
    "ConsentEventType",
    "LegalBasis",
    "CollectionMethod",
    "ConsentActor",
    "ConsentMergeState",
    "DataSubjectRequestType",
    "DataSubjectRequestStatus",
    "IdentityCheck",
    "RequestReceivedVia",
    "DataSubjectCategory",
    "RecipientKind",
    "TransferSafeguard",
    "ProcessingGap",
    "RectificationDecision",
    "RetentionLegalReference",
    "ContactUseCompliance",
    "ContactObligation",
    "RetentionPeriodStart",
    "RetentionRunStatus",
)
SDL = PACKAGE.parents[2] / "gateway" / "subgraphs"


def german() -> dict[str, str]:
    return translated("de")


def translated(language: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for po in Path(str(CATALOGUES).format(language=language)).glob("*.po"):
        for message in read_po(io.BytesIO(po.read_bytes()), locale=language):
            if not message.id:
                continue
            key = message.id[0] if isinstance(message.id, tuple) else message.id
            text = message.string[0] if isinstance(message.string, tuple) else message.string
            if text:
                found[key] = text
    return found


def extracted() -> set[str]:
    method_map = [("**.py", "python"), ("templates/**.html", "jinja2")]
    options = {"templates/**.html": {"extensions": "jinja2.ext.i18n"}}
    ids = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(PACKAGE), method_map=method_map, options_map=options
    ):
        ids.add(message[0] if isinstance(message, tuple) else message)
    return ids


def test_every_extracted_message_has_a_german_translation() -> None:
    missing = sorted(extracted() - german().keys())
    assert missing == []


@pytest.mark.parametrize("language", ["de", "en"])
@pytest.mark.parametrize("enum", SHOWN_ENUMS)
def test_schema_words_shown_on_pages_are_translated(enum: str, language: str) -> None:
    sdl = "\n".join(p.read_text() for p in SDL.glob("*.graphql"))
    body = re.search(r"enum " + enum + r" \{(.*?)\}", sdl, re.S)
    assert body is not None
    values = [
        v.strip() for v in body.group(1).splitlines() if v.strip() and not v.strip().startswith('"')
    ]
    assert [v for v in values if v not in translated(language)] == []


def test_placeholders_survive_translation() -> None:
    for source, text in german().items():
        assert set(re.findall(r"\{\w+\}", source)) == set(re.findall(r"\{\w+\}", text)), source


def test_the_browser_language_is_chosen_unless_the_user_chose_one() -> None:
    from starlette.requests import Request

    def request(headers: dict[str, str]) -> Request:
        raw = [(k.encode(), v.encode()) for k, v in headers.items()]
        return Request({"type": "http", "headers": raw})

    assert i18n.language_of(request({"accept-language": "de-DE,de;q=0.9,en;q=0.8"})) == "de"
    assert i18n.language_of(request({"accept-language": "fr-FR, en;q=0.5"})) == "en"
    assert i18n.language_of(request({})) == "en"
    chosen = {"accept-language": "de-DE", "cookie": f"{i18n.LANGUAGE_COOKIE}=en"}
    assert i18n.language_of(request(chosen)) == "en"
