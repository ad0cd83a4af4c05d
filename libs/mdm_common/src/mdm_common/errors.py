"""Errors the domain raises, independent of any transport.

Each carries a stable machine-readable ``code``; the GraphQL edge puts it into
``extensions.code`` (see :mod:`mdm_common.graphql`). Messages must never contain
personal data: they may name ids, never names, e-mail addresses or phone numbers.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Any


class ErrorCode(StrEnum):
    BAD_USER_INPUT = "BAD_USER_INPUT"
    NOT_FOUND = "NOT_FOUND"
    CONFLICT = "CONFLICT"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    UNAVAILABLE = "UNAVAILABLE"


class DomainError(Exception):
    """An expected failure that the caller can understand and act on."""

    code: ErrorCode = ErrorCode.BAD_USER_INPUT

    def __init__(
        self, message: str, *, field: str | None = None, details: Mapping[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        # Structured, machine-readable specifics (e.g. which records of a batch were
        # refused and why); like the message, never personal data.
        self.details = dict(details or {})


class InvalidInput(DomainError):
    code = ErrorCode.BAD_USER_INPUT


class NotFound(DomainError):
    code = ErrorCode.NOT_FOUND


class Conflict(DomainError):
    code = ErrorCode.CONFLICT


class WriteConflict(Conflict):
    """A write met a uniqueness constraint: a concurrent writer created the same key
    first, or the key exists. The unit of work runs the write again; if the key is
    still in the way, the caller gets the CONFLICT."""


class Unauthenticated(DomainError):
    code = ErrorCode.UNAUTHENTICATED


class Forbidden(DomainError):
    code = ErrorCode.FORBIDDEN


class Unavailable(DomainError):
    """A dependency (graph database, broker) cannot be reached right now."""

    code = ErrorCode.UNAVAILABLE
