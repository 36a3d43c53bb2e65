"""UserAgentParser on `device-detector` (a Python port of Matomo's maintained rule set).

Chosen over ua-parser because it tells TVs, set-top boxes and consoles apart
from tablets (Fire TV, Apple TV, webOS, Tizen), which a cinema's apps run on.
It costs ~20 ms of CPU per new string, so answers are memoised: real traffic
repeats a small set of User-Agents.
"""

from __future__ import annotations

import functools

from device_detector import DeviceDetector

from search_svc.domain.client_info import DeviceClass, ParsedUserAgent, Software

# device-detector's device types, by what a cinema shows on them.
_DEVICE_CLASSES: dict[str, DeviceClass] = {
    "desktop": DeviceClass.DESKTOP,
    "smartphone": DeviceClass.MOBILE,
    "phablet": DeviceClass.MOBILE,
    "feature phone": DeviceClass.MOBILE,
    "wearable": DeviceClass.MOBILE,
    "tablet": DeviceClass.TABLET,
    "tv": DeviceClass.TV,
    # Consoles and set-top boxes play to a television screen.
    "console": DeviceClass.TV,
    "peripheral": DeviceClass.UNKNOWN,
}


class DeviceDetectorUserAgentParser:
    def __init__(self, cache_size: int = 10_000) -> None:
        self.parse = functools.lru_cache(maxsize=cache_size)(self._parse)

    def warm_up(self) -> None:
        """The first parse loads the rule set (~1.5 s); pay it before serving traffic."""
        self._parse("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36")

    @staticmethod
    def _parse(user_agent: str) -> ParsedUserAgent:
        if not user_agent:
            return ParsedUserAgent()
        device = DeviceDetector(user_agent).parse()
        browser = Software(device.client_name() or "", device.client_version() or "")
        if device.is_bot():
            return ParsedUserAgent(DeviceClass.BOT, Software(), browser)
        device_class = _DEVICE_CLASSES.get(device.device_type() or "", DeviceClass.UNKNOWN)
        return ParsedUserAgent(device_class, Software(device.os_name() or "", device.os_version() or ""), browser)
