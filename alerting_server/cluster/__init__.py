"""Several replicas on one PostgreSQL as one system: membership and leases (membership.py), the
notifications that wake replicas (notifications.py), the global watch order every replica follows
(follower.py), and what the pipeline and the rule manager ask of them (node.py)."""
