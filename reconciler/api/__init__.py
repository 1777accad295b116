"""Stage 3, the Datadog API: the client and its transport (httpx), retries and rate limits,
how many requests run at once, and the one listing authority that every read goes through."""
