"""Notification integrations: each renders a Message for its receiver, sends it, and says
whether a failure is worth retrying. Queuing, retries and records live in the delivery pipeline."""

from alerting_server.notify.factory import notifier_for, sends_resolved
from alerting_server.notify.message import AlertData, Message, build_message, truncate
from alerting_server.notify.notifier import DELIVERED, DeliveryResult, Notifier
from alerting_server.notify.retry import next_delay

__all__ = [
    "DELIVERED",
    "AlertData",
    "DeliveryResult",
    "Message",
    "Notifier",
    "build_message",
    "next_delay",
    "notifier_for",
    "sends_resolved",
    "truncate",
]
