"""What the server, the gateway and the client share: Prometheus durations, label matchers, Go-syntax
regular expressions, the JSON mapping of the API's messages and YAML error positions."""
