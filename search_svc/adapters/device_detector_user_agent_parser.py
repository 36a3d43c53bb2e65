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


# One client of each kind the rule sets are organised by: desktop, phone, tablet, television, bot.
_WARM_UP = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Mobile",
    "Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148",
    "Mozilla/5.0 (Web0S; Linux/SmartTV) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/87.0 Safari/537.36",
    "Googlebot/2.1 (+http://www.google.com/bot.html)",
)


class DeviceDetectorUserAgentParser:
    def __init__(self, cache_size: int = 10_000) -> None:
        self.parse = functools.lru_cache(maxsize=cache_size)(self._parse)

    def warm_up(self) -> None:
        """Load the rule sets before serving traffic: each kind of client loads its own on first sight.

        A Linux desktop alone left the device-model rules unloaded, and the first Windows browser then took
        5 s, far past the route's deadline.
        """
        for user_agent in _WARM_UP:
            self._parse(user_agent)

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
