"""Escalation: unacknowledged firing alerts climb their policy's levels; acknowledgement
(alerting_server/ack) stops them.

The escalation stage (stage.py) drives the rules below over the live alerts; the pipeline
(alerting_server/pipeline) commits its state with the outbox rows of each step. All at an explicit `now`:

start(fingerprint, policy, fired_at, now) -> Escalation        the policy is snapshotted here
advance(esc, paused=, now=) -> (Escalation, [Step])             steps due by now, pause and resume
ack_expired(esc, ack, now) / restart(esc, now)                  acknowledgement timeout: from level 0
next_wakeup(esc, ack) -> int | None
StorePolicies(store).for_alert(alert, route_policy_ids)         the rule's policy, else the route's
People(users, schedules, overrides).resolve(...)                 whom a level pages when it is reached
fall_through(esc, now)                                          the next level at once: this one paged nobody
"""

from alerting_server.escalation.plan import Step, pass_length, step, total_steps
from alerting_server.escalation.policies import PolicyFinder, StorePolicies
from alerting_server.escalation.state import ack_expired, advance, next_wakeup, restart, start

__all__ = [
    "PolicyFinder",
    "Step",
    "StorePolicies",
    "ack_expired",
    "advance",
    "next_wakeup",
    "pass_length",
    "restart",
    "start",
    "step",
    "total_steps",
]
