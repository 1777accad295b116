"""`reconciler doctor`, apart from the pipeline: checks what the engine assumes of the API
(page cap, rate limits, shapes) against the configured org."""
