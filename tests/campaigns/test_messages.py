"""Sandboxed message templates, preview, SMS encoding and parts."""

from __future__ import annotations

import pytest

from telcamp.campaigns import messages
from telcamp.core.errors import ValidationFailed


@pytest.mark.parametrize(("text", "encoding", "parts"), [
    ("", "GSM-7", 0),
    ("a" * 160, "GSM-7", 1),
    ("a" * 161, "GSM-7", 2),
    ("a" * 306, "GSM-7", 2),
    ("a" * 307, "GSM-7", 3),
    ("{" * 80, "GSM-7", 1),      # extension characters count twice
    ("{" * 81, "GSM-7", 2),
    ("Привет" * 11 + "Прив", "UCS-2", 1),   # 70 characters
    ("Привет" * 12, "UCS-2", 2),            # 72
    ("流量" * 35, "UCS-2", 1),
    ("流量" * 34 + "流量包", "UCS-2", 2),
    ("a" * 159 + "€", "GSM-7", 2),
    ("😀" * 35, "UCS-2", 1),                  # surrogate pairs: 70 code units
    ("😀" * 36, "UCS-2", 2),
])
def test_sms_encoding_and_parts(text: str, encoding: str, parts: int) -> None:
    info = messages.sms_info(text)
    assert (info.encoding, info.parts) == (encoding, parts)


def test_render_and_preview_personalise() -> None:
    out = messages.preview("Hi {{ msisdn }}, {{ data_mb_30d | round | int }} MB",
                           channel="sms", subscriber={"msisdn": "79001", "data_mb_30d": 12.6})
    assert out["text"] == "Hi 79001, 13 MB"
    assert out["sms"] == {"encoding": "GSM-7", "length": 15, "parts": 1, "per_part": 160}


def test_unknown_field_is_refused_with_its_name() -> None:
    with pytest.raises(ValidationFailed) as err:
        messages.check_message("Hi {{ first_nam }}", channel="sms", fields={"msisdn"},
                               where="cells[0].messages.sms.en")
    assert "first_nam" in err.value.message and "cells[0]" in err.value.message


def test_too_long_for_the_channel_is_refused() -> None:
    with pytest.raises(ValidationFailed) as err:
        messages.check_message("Я" * 67 * 6 + "Я", channel="sms", fields=set())
    assert "7 parts" in err.value.message
    messages.check_message("Я" * 67 * 6, channel="sms", fields=set())
    with pytest.raises(ValidationFailed):
        messages.check_message("x" * 241, channel="push", fields=set())


def test_sandbox_blocks_python_internals() -> None:
    with pytest.raises(ValidationFailed):
        messages.render("{{ x.__class__.__mro__[1].__subclasses__() }}", {"x": "a"})
    with pytest.raises(ValidationFailed):
        messages.render("{{ nope }}", {})  # StrictUndefined at render time too


def test_syntax_error_is_clear() -> None:
    with pytest.raises(ValidationFailed) as err:
        messages.template_fields("Hi {{ msisdn ")
    assert "syntax error" in err.value.message
