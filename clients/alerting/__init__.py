"""Python client of the alerting service: generated stubs under alerting.v1, typed clients, alertctl."""
