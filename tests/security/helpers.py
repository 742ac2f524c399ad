"""What several hostile-input tests send."""

from __future__ import annotations

SILENCE = {
    "matchers": ['alertname="X"'],
    "starts_at": 0,
    "ends_at": 4102444800000,
    "created_by": "ops",
    "comment": "maintenance",
}
