"""Acknowledgement, in one place.

validate.py   what an acknowledgement must carry
links.py      signed, expiring links in notifications; secret.py keeps their key
service.py    Acknowledgements: acknowledge, unacknowledge, acknowledge by link (the servicer's and
              the gateway link page's one entry)
stage.py      what an acknowledgement does inside the pipeline's step: the alert's escalation pauses
              and its PagerDuty incidents are told
"""

from alerting_server.ack.links import AckLinks, Link
from alerting_server.ack.service import LINK_USER, Acknowledgements, Acknowledger
from alerting_server.ack.validate import validate_ack

__all__ = ["LINK_USER", "AckLinks", "Acknowledgements", "Acknowledger", "Link", "validate_ack"]
