"""What the service tells a client about itself, and the rules that are ours rather than a parser's."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum


class DeviceClass(StrEnum):
    DESKTOP = "desktop"
    MOBILE = "mobile"
    TABLET = "tablet"
    TV = "tv"
    BOT = "bot"
    # RFC 2324 / RFC 7168 clients (HTCPCP) announce themselves as teapots; we take them at their word.
    TEAPOT = "teapot"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Software:
    name: str = ""
    version: str = ""


@dataclass(frozen=True)
class ParsedUserAgent:
    """What a user-agent parser could tell; empty fields where it could not."""

    device_class: DeviceClass = DeviceClass.UNKNOWN
    os: Software = field(default_factory=Software)
    browser: Software = field(default_factory=Software)


@dataclass(frozen=True)
class ClientInfo:
    user_agent: str
    ip: str
    device_class: DeviceClass
    os: Software
    browser: Software


_TEAPOT = re.compile(r"teapot|htcpcp", re.IGNORECASE)


def describe_client(user_agent: str, ip: str, parsed: ParsedUserAgent) -> ClientInfo:
    """Combine the raw request facts with the parser's reading, applying our own overrides."""
    device_class = parsed.device_class
    if not user_agent.strip():
        device_class = DeviceClass.UNKNOWN
    elif _TEAPOT.search(user_agent):
        device_class = DeviceClass.TEAPOT
    return ClientInfo(
        user_agent=user_agent,
        ip=ip,
        device_class=device_class,
        os=parsed.os,
        browser=parsed.browser,
    )
