"""Dispatch: the routing tree, aggregation groups and their timers, and the notification log that
remembers what each group last sent (Alertmanager's dispatch/ and nflog/)."""
