"""Which OpenSearch failures are the engine's (UNAVAILABLE to the caller) and which are the request's own.

The search index and the loader both judge the client's exceptions, and the search index the errors of single
`_msearch` items, through these two functions, so a failure means the same whichever side meets it.
"""

from __future__ import annotations

import logging

from opensearchpy.exceptions import ConnectionError as ClientConnectionError
from opensearchpy.exceptions import ConnectionTimeout, TransportError

from meshkit.errors import Unavailable

log = logging.getLogger(__name__)

TOO_MANY_REQUESTS = 429
INDEX_NOT_FOUND = "index_not_found_exception"


def unavailable_answer(status: int, reason: str, *, serving_alias: str | None = None) -> Unavailable | None:
    """An error answer (`status`, error `reason`) as UNAVAILABLE, or None when the request itself was wrong.

    With `serving_alias`, a missing index means that nothing has been published under that alias yet: the
    catalogue is not there to answer, which a reader reports as UNAVAILABLE rather than as its own fault.
    """
    if serving_alias is not None and reason == INDEX_NOT_FOUND:
        return Unavailable(f"no catalogue loaded yet: run the ETL (alias {serving_alias!r} is missing)")
    # Server errors and back-pressure: the engine's state, which passes, not the request's.
    if status >= 500 or status == TOO_MANY_REQUESTS:
        return Unavailable(f"OpenSearch failed ({status}): {reason}")
    return None


def unavailable_error(
    error: Exception, *, timeout: float | None = None, serving_alias: str | None = None
) -> Unavailable | None:
    """A client exception as UNAVAILABLE, or None when it is not the engine's to answer for (re-raise it then)."""
    if isinstance(error, TimeoutError | ConnectionTimeout):
        within = f" within {timeout} s" if timeout is not None else ""
        return Unavailable(f"OpenSearch did not answer{within}")
    if isinstance(error, ClientConnectionError):
        # The connection error names internal hosts and ports: the log gets it, the caller does not.
        log.warning("OpenSearch cannot be reached: %s", error.error)
        return Unavailable("OpenSearch cannot be reached")
    if isinstance(error, TransportError):
        status = error.status_code if isinstance(error.status_code, int) else 0
        return unavailable_answer(status, str(error.error), serving_alias=serving_alias)
    return None
