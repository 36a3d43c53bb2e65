from __future__ import annotations

import pytest

from search_svc.domain.client_info import DeviceClass, ParsedUserAgent, Software, describe_client

PARSED_PHONE = ParsedUserAgent(DeviceClass.MOBILE, Software("iOS", "17.1"), Software("Mobile Safari", "17.1"))


def test_the_user_agent_is_returned_exactly_as_sent() -> None:
    raw = "  Mozilla/5.0 (iPhone) weird\tspacing  "
    info = describe_client(raw, "203.0.113.7", PARSED_PHONE)
    assert info.user_agent == raw
    assert info.ip == "203.0.113.7"
    assert info.device_class is DeviceClass.MOBILE
    assert info.os == Software("iOS", "17.1")
    assert info.browser == Software("Mobile Safari", "17.1")


@pytest.mark.parametrize("raw", ["", "   "])
def test_no_user_agent_is_unknown_whatever_the_parser_says(raw: str) -> None:
    assert describe_client(raw, "", PARSED_PHONE).device_class is DeviceClass.UNKNOWN


@pytest.mark.parametrize("raw", ["Teapot/1.0", "coffee-pot (HTCPCP/1.0)", "my TEAPOT"])
def test_teapots_are_taken_at_their_word(raw: str) -> None:
    assert describe_client(raw, "", ParsedUserAgent()).device_class is DeviceClass.TEAPOT


def test_device_classes_are_the_documented_vocabulary() -> None:
    assert {c.value for c in DeviceClass} == {"desktop", "mobile", "tablet", "tv", "bot", "teapot", "unknown"}
