"""Double opt-in for e-mail marketing (UWG §7(2) Nr. 2; GDPR Art. 7(1)).

Advertising by e-mail needs the recipient's prior express consent, and the controller
must be able to prove that the person who owns the address gave it. A form alone
proves only that someone typed the address in; in German practice (BGH) only a
confirmation from the mailbox itself does: the double opt-in. So for e-mail on a
direct-marketing purpose:

- the form records a ``PENDING_DOUBLE_OPT_IN`` (the outbox announces it, the mailing
  system sends the confirmation mail); the contact check answers
  ``DOUBLE_OPT_IN_PENDING`` until the person confirms, and ``DOUBLE_OPT_IN_LAPSED``
  once the request is older than the confirmation window (a setting, fixed on the
  request when it is recorded);
- the confirmation is a ``CONFIRMED`` event with its proof: the SHA-256 of the
  confirmation token (the token itself is never stored), its time (``occurredAt``)
  and the requesting IP address truncated to its network (IPv4 /24, IPv6 /48);
- a plain ``GRANTED`` is no e-mail-marketing consent: recording one now is refused
  (``DOUBLE_OPT_IN_REQUIRED``); one already stored answers ``DOUBLE_OPT_IN_REQUIRED``.
  Only an imported grant collected through the confirmation link of a former
  system's double opt-in (method ``EMAIL_LINK``, with the import's evidence) counts.

Pure: no I/O; the rules (``domain/rules.py``) and the recording use cases call it.
"""

from __future__ import annotations

import hashlib
import ipaddress
from dataclasses import replace
from datetime import datetime, timedelta

from mdm_common.errors import InvalidInput
from mdm_consent.domain.models import Channel, ConsentEvent, EventType, Fact, Method

# How long a confirmation link is good for when no setting says otherwise (and for
# requests recorded before the window was kept on them): a mail may lie unread over
# a holiday, but a confirmation weeks later no longer proves the form's request.
DEFAULT_WINDOW = timedelta(days=30)
MIN_TOKEN, MAX_TOKEN = 16, 512
_IPV4_PREFIX, _IPV6_PREFIX = 24, 48


def required(*, direct_marketing: bool, channel: Channel | None) -> bool:
    """Whether consent over ``channel`` for such a purpose needs a double opt-in:
    e-mail advertising, whatever the purpose's legal basis under GDPR Art. 6(1) (the
    UWG asks for the recipient's consent to e-mail advertising in any case)."""
    return direct_marketing and channel is Channel.EMAIL


def counts(grant: Fact) -> bool:
    """Whether a grant is e-mail-marketing consent: a confirmation of a pending
    opt-in, or a confirmed opt-in of a former system (imported, method EMAIL_LINK)."""
    if grant.type is EventType.CONFIRMED:
        return True
    return grant.type is EventType.GRANTED and grant.imported and grant.method is Method.EMAIL_LINK


def lapses_at(pending: Fact) -> datetime:
    return pending.confirm_by or pending.occurred_at + DEFAULT_WINDOW


def lapsed(pending: Fact, at: datetime) -> bool:
    """The request lapsed at ``at``: its confirmation window has passed."""
    return at >= lapses_at(pending)


def refuse_plain_grant(event: ConsentEvent) -> None:
    """A grant recorded now for e-mail marketing is refused: it must be confirmed."""
    if event.type is EventType.GRANTED and required(
        direct_marketing=event.direct_marketing, channel=event.channel
    ):
        raise InvalidInput(
            "E-mail marketing needs a double opt-in: record PENDING_DOUBLE_OPT_IN when the "
            "form is sent, and CONFIRMED (with the confirmation token) when the person "
            "follows the link in the mail.",
            field="type",
            details={"reason": "DOUBLE_OPT_IN_REQUIRED"},
        )


def as_request(event: ConsentEvent, *, window: timedelta) -> ConsentEvent:
    """A form's grant for e-mail marketing becomes a pending request (submissions)."""
    if event.type is not EventType.GRANTED or not required(
        direct_marketing=event.direct_marketing, channel=event.channel
    ):
        return event
    return replace(
        event, type=EventType.PENDING_DOUBLE_OPT_IN, confirm_by=event.occurred_at + window
    )


def proof_fields(
    event: ConsentEvent, *, labels: dict[str, str] | None = None
) -> dict[str, str | None]:
    """The double opt-in proof of an event (for exports and the printable document),
    by field name or by the given ``labels``."""
    fields = {
        "confirmBy": event.confirm_by.isoformat() if event.confirm_by else None,
        "confirmationTokenSha256": event.token_sha256,
        "ipNetwork": event.ip_network,
    }
    return {(labels or {}).get(k, k): v for k, v in fields.items()}


def token_sha256(token: str) -> str:
    """The SHA-256 (hex) kept as proof of the confirmation token; the token is not kept."""
    text = token.strip()
    if not MIN_TOKEN <= len(text) <= MAX_TOKEN:
        raise InvalidInput(
            f"confirmationToken is the token of the confirmation link ({MIN_TOKEN} to "
            f"{MAX_TOKEN} characters).",
            field="confirmationToken",
            details={"reason": "BAD_TOKEN"},
        )
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def ip_network(address: str) -> str:
    """The network of an IP address as kept: IPv4 to /24, IPv6 to /48 (enough to show
    where a request came from, not which device sent it)."""
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        raise InvalidInput(
            "ipAddress is not an IPv4 or IPv6 address.",
            field="ipAddress",
            details={"reason": "BAD_IP_ADDRESS"},
        ) from None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    prefix = _IPV4_PREFIX if ip.version == 4 else _IPV6_PREFIX
    return str(ipaddress.ip_network(f"{ip}/{prefix}", strict=False))
