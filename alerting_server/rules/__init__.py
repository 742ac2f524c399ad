"""Rules: Prometheus rule files, evaluation and the alert state machine."""
