"""`promtool test rules`: rule unit-test files (testfile) run against the rule engine (runner)."""
