"""Developer tools over the engine, run from the command line, not by the server.

promqltest   Prometheus' promqltest files run against the query engine (`alerting-server promql-test`)
ruletest     `promtool test rules` files run against the rule engine (`alerting-server test-rules`)
"""
