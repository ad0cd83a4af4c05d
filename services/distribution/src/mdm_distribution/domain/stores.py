"""The stores of one distribution transaction, bundled."""

from __future__ import annotations

from dataclasses import dataclass

from mdm_common.contracts import EventRecorder
from mdm_distribution.domain.ports import (
    ExportJobStore,
    Inbox,
    MessageStore,
    RecipientStore,
    SubscriberStore,
)


@dataclass(frozen=True)
class Stores:
    subscribers: SubscriberStore
    recipients: RecipientStore
    messages: MessageStore
    exports: ExportJobStore
    events: EventRecorder
    inbox: Inbox
