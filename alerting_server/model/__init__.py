"""Domain types shared by the stages: frozen dataclasses, no protobuf, no SQL.

Conventions: every timestamp is Unix epoch milliseconds (int); every duration is
milliseconds (int); None means unset.
"""

from alerting_server.model.alert import (
    Ack,
    Alert,
    AlertHistoryEvent,
    AlertState,
    HistoryEventType,
    PostedAlert,
)
from alerting_server.model.channel import Channel, ChannelType, Delivery, DeliveryStatus
from alerting_server.model.escalation import Escalation, EscalationLevel, EscalationPolicy
from alerting_server.model.notification import ACKNOWLEDGE, NotificationPayload
from alerting_server.model.routing import InhibitRule, Route
from alerting_server.model.rule import Rule, RuleHealth, RuleType
from alerting_server.model.schedule import (
    ContactMethod,
    Layer,
    OnCall,
    Override,
    Restriction,
    RestrictionType,
    Schedule,
    Shift,
    User,
)
from alerting_server.model.silence import Silence, SilenceState

__all__ = [
    "ACKNOWLEDGE",
    "Ack",
    "Alert",
    "AlertHistoryEvent",
    "AlertState",
    "Channel",
    "ChannelType",
    "ContactMethod",
    "Delivery",
    "DeliveryStatus",
    "Escalation",
    "EscalationLevel",
    "EscalationPolicy",
    "HistoryEventType",
    "InhibitRule",
    "Layer",
    "NotificationPayload",
    "OnCall",
    "Override",
    "PostedAlert",
    "Restriction",
    "RestrictionType",
    "Route",
    "Rule",
    "RuleHealth",
    "RuleType",
    "Schedule",
    "Shift",
    "Silence",
    "SilenceState",
    "User",
]
