"""Port: reading a User-Agent string."""

from __future__ import annotations

from typing import Protocol

from search_svc.domain.client_info import ParsedUserAgent


class UserAgentParser(Protocol):
    """Parses a User-Agent header value.

    Pure and thread-safe: the same input always gives the same answer, any
    string is acceptable (garbage parses to an all-unknown result), and it
    never raises. It may be CPU-heavy, so async callers run it in a thread.
    """

    def parse(self, user_agent: str) -> ParsedUserAgent: ...
