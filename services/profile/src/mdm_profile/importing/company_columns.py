"""The columns of company files (``mdm import --kind company``), with the headers
German and international exports write them under."""

from __future__ import annotations

FIELDS = (
    "sourceId", "name", "legalForm", "registryCourt", "registryNumber", "vatId", "lei",
    "street", "houseNumber", "postalCode", "city", "country", "website", "email", "phone",
    "industryCode", "parentSourceId", "parentVatId", "parentLei", "parentRegistryCourt",
    "parentRegistryNumber", "recordedAt",
)  # fmt: skip
ALIASES = {
    "id": "sourceId", "source_id": "sourceId", "kundennummer": "sourceId", "kundennr": "sourceId",
    "kundennr.": "sourceId", "firmennummer": "sourceId", "debitorennummer": "sourceId",
    "firma": "name", "firmenname": "name", "unternehmen": "name", "company": "name",
    "company_name": "name", "rechtsform": "legalForm", "legal_form": "legalForm",
    "registergericht": "registryCourt", "amtsgericht": "registryCourt",
    "handelsregister": "registryNumber", "handelsregisternummer": "registryNumber",
    "hr-nummer": "registryNumber", "hr-nr": "registryNumber", "hrb": "registryNumber",
    "registernummer": "registryNumber", "ust-idnr": "vatId", "ust-idnr.": "vatId",
    "ust-id": "vatId", "ustidnr": "vatId", "umsatzsteuer-id": "vatId", "vat_id": "vatId",
    "strasse": "street", "straße": "street", "str.": "street", "hausnummer": "houseNumber",
    "hausnr": "houseNumber", "hausnr.": "houseNumber", "house_number": "houseNumber",
    "plz": "postalCode", "postleitzahl": "postalCode", "postal_code": "postalCode",
    "zip": "postalCode", "ort": "city", "stadt": "city", "sitz": "city", "land": "country",
    "webseite": "website", "homepage": "website", "internet": "website", "url": "website",
    "e-mail": "email", "mail": "email", "telefon": "phone", "tel": "phone", "tel.": "phone",
    "branche": "industryCode", "wz-code": "industryCode", "wz": "industryCode",
    "nace": "industryCode", "industry_code": "industryCode",
    "muttergesellschaft": "parentSourceId", "mutter-id": "parentSourceId",
    "parent_id": "parentSourceId", "ust-idnr mutter": "parentVatId",
    "recorded_at": "recordedAt", "geändert": "recordedAt", "geaendert": "recordedAt",
    "letzte änderung": "recordedAt",
}  # fmt: skip
