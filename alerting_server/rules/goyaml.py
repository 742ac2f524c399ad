"""YAML read as Go reads it into string fields: every scalar stays a string (`expr: 1` is "1").

Prometheus' rule files and promtool's test files are decoded by Go into string-typed fields, so
`values: 0x10` is not 16 and `expr: 1` is a valid expression; only `null`/`~` stay null.
"""

from __future__ import annotations

from typing import Any

import yaml

# libyaml's loader where PyYAML was built with it: rule files of thousands of rules load ~10x faster.
_Base: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class StringLoader(_Base):  # type: ignore[valid-type,misc]
    """A SafeLoader whose only implicit type is null."""


StringLoader.yaml_implicit_resolvers = {
    key: [(tag, regexp) for tag, regexp in resolvers if tag == "tag:yaml.org,2002:null"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load(text: str) -> Any:
    """The document with string scalars; yaml.YAMLError when it is not YAML."""
    return yaml.load(text, Loader=StringLoader)
