"""The UserAgentParser port, against every adapter, on real User-Agent strings of the devices a cinema serves."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from search_svc.adapters.device_detector_user_agent_parser import DeviceDetectorUserAgentParser
from search_svc.domain.client_info import DeviceClass
from search_svc.ports.user_agent_parser import UserAgentParser

ADAPTERS: dict[str, Callable[[], UserAgentParser]] = {
    "device_detector": DeviceDetectorUserAgentParser,
}

CHROME_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36"
)

CASES = [
    (CHROME_WINDOWS, DeviceClass.DESKTOP, "Windows", "Chrome"),
    (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_1) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/17.1 Safari/605.1.15",
        DeviceClass.DESKTOP,
        "Mac",
        "Safari",
    ),
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
        "Version/17.1 Mobile/15E148 Safari/604.1",
        DeviceClass.MOBILE,
        "iOS",
        "Mobile Safari",
    ),
    (
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/120.0 Mobile Safari/537.36",
        DeviceClass.MOBILE,
        "Android",
        "Chrome Mobile",
    ),
    (
        "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 "
        "Mobile/15E148 Safari/604.1",
        DeviceClass.TABLET,
        "iPadOS",
        "Mobile Safari",
    ),
    (
        "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0 Safari/537.36",
        DeviceClass.TABLET,
        "Android",
        "Chrome",
    ),
    (
        "Mozilla/5.0 (Web0S; Linux/SmartTV) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/79.0.3945.79 Safari/537.36 "
        "WebAppManager",
        DeviceClass.TV,
        "webOS",
        "Chrome",
    ),
    (
        "Mozilla/5.0 (SMART-TV; Linux; Tizen 6.0) AppleWebKit/538.1 (KHTML, like Gecko) Version/6.0 TV Safari/538.1",
        DeviceClass.TV,
        "Tizen",
        "",
    ),
    (
        "Mozilla/5.0 (Linux; Android 9; AFTMM) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/99 Safari/537.36",
        DeviceClass.TV,
        "Fire OS",
        "Chrome",
    ),
    ("AppleTV11,1/11.1", DeviceClass.TV, "tvOS", ""),
    ("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", DeviceClass.BOT, "", "Googlebot"),
    ("Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)", DeviceClass.BOT, "", ""),
    ("curl/8.5.0", DeviceClass.UNKNOWN, "", "curl"),
    ("X", DeviceClass.UNKNOWN, "", ""),
    ("", DeviceClass.UNKNOWN, "", ""),
]


@pytest.fixture(params=sorted(ADAPTERS), scope="module")
def parser(request: pytest.FixtureRequest) -> UserAgentParser:
    return ADAPTERS[request.param]()


@pytest.mark.parametrize(("user_agent", "device_class", "os_name", "browser_name"), CASES)
def test_parses_real_user_agents(
    parser: UserAgentParser, user_agent: str, device_class: DeviceClass, os_name: str, browser_name: str
) -> None:
    parsed = parser.parse(user_agent)
    assert parsed.device_class is device_class
    assert parsed.os.name == os_name
    if browser_name:
        assert parsed.browser.name == browser_name


@pytest.mark.parametrize("garbage", ["\x00\x01", "Mozilla/5.0 (" * 50, "😀 ё Ж", "a" * 5000])
def test_never_raises_on_garbage(parser: UserAgentParser, garbage: str) -> None:
    assert parser.parse(garbage).device_class in set(DeviceClass)


def test_is_deterministic(parser: UserAgentParser) -> None:
    assert parser.parse(CHROME_WINDOWS) == parser.parse(CHROME_WINDOWS)


def test_versions_are_reported(parser: UserAgentParser) -> None:
    parsed = parser.parse(CHROME_WINDOWS)
    assert parsed.browser.version.startswith("120")
    assert parsed.os.version == "10"
