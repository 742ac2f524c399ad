"""What an acknowledgement must carry."""

from __future__ import annotations

from alerting_server.errors import Violations
from alerting_server.validation.limits import MAX_COMMENT_LENGTH

# The width of the alerts.ack_by column (one less than the general name limit).
MAX_BY_LENGTH = 255


def validate_ack(by: str, comment: str = "", *, by_required: bool = True) -> None:
    """`by` is required to acknowledge; withdrawing one may leave it out (alertctl alerts unack does)."""
    v = Violations()
    if by_required and not by.strip():
        v.add("by", "is required: who acknowledges")
    elif len(by) > MAX_BY_LENGTH:
        v.add("by", f"must be at most {MAX_BY_LENGTH} characters, got {len(by)}")
    if len(comment) > MAX_COMMENT_LENGTH:
        v.add("comment", f"must be at most {MAX_COMMENT_LENGTH} characters, got {len(comment)}")
    v.raise_if_any()
