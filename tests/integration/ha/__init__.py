"""Several real `alerting-server serve` processes on one PostgreSQL database, as one system: replicas
killed, restarted and cut off from the database while alerts, rules, deliveries and watchers go on."""
