"""The Datadog API side: sites and target policy, typed errors, transport, the operations."""
