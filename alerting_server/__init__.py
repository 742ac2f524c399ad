"""The alerting server: rule evaluation, alert management, notification delivery and its gRPC API."""
