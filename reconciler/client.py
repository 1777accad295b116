"""The public import point of the API client: `from reconciler.client import ApiClient`.

The implementation lives in `reconciler.api`, one job per module: `sites` (sites, URL
parsing, the target policy), `errors` (the error hierarchy), `responses` (reading bodies),
`transport` (one bounded exchange), `retrying` (the retry loop and its time bounds),
`client` (the four operations).
"""

from reconciler.api.client import ApiClient
from reconciler.api.errors import KEYS_HINT, ApiError
from reconciler.api.sites import SITES, resolve_base_url
from reconciler.api.transport import MAX_BODY_BYTES, Timeouts

__all__ = [
    "KEYS_HINT",
    "MAX_BODY_BYTES",
    "SITES",
    "ApiClient",
    "ApiError",
    "Timeouts",
    "resolve_base_url",
]
