"""Tolerant delivery-receipt parsing, state transitions and id matching across radixes."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as s

from telcamp.channels.smpp import pdu as p
from telcamp.channels.smpp.receipts import (
    MessageState,
    ReceiptMatcher,
    id_forms,
    parse_receipt,
    parse_receipt_time,
    transition,
)
from telcamp.core.errors import IllegalTransition

STANDARD = ("id:0123456789 sub:001 dlvrd:001 submit date:2611221200 done date:2611221205 "
            "stat:DELIVRD err:000 text:Hello {world}")


def test_standard_receipt():
    r = parse_receipt(esm_class=4, text=STANDARD, tlvs=[])
    assert r is not None
    assert r.message_id == "0123456789"
    assert r.state is MessageState.DELIVERED
    assert (r.err, r.submitted, r.done, r.delivered_count) == ("000", "2611221200",
                                                               "2611221205", "001")
    assert r.text == "Hello {world}"


@pytest.mark.parametrize(("text", "mid", "state"), [
    ("id:ab12cd stat:UNDELIV err:012", "ab12cd", MessageState.UNDELIVERED),
    ("ID:77 STAT:EXPIRED", "77", MessageState.EXPIRED),
    ("stat:REJECTD id:5 done date:2611221205", "5", MessageState.REJECTED),
    ("id:9 submit_date:2611221200 done_date:2611221201 stat:DELIVRD", "9",
     MessageState.DELIVERED),
    ("id: 42  sub: 1  dlvrd: 1  stat: DELIVRD", "42", MessageState.DELIVERED),
    ("id:43 stat:DELETED", "43", MessageState.UNDELIVERED),
    ("id:44 stat:ACCEPTD", "44", MessageState.SUBMITTED),
    ("id:45 stat:ENROUTE err:0 text:", "45", MessageState.SUBMITTED),
])
def test_variants(text, mid, state):
    r = parse_receipt(esm_class=4, text=text, tlvs=[])
    assert r is not None and r.message_id == mid and r.state is state
    assert r.intermediate == (state is MessageState.SUBMITTED)


def test_tlv_only_receipt():
    tlvs = [(p.TLV_RECEIPTED_MESSAGE_ID, b"abc123\x00"), (p.TLV_MESSAGE_STATE, b"\x05")]
    r = parse_receipt(esm_class=4, text="", tlvs=tlvs)
    assert r is not None and r.message_id == "abc123" and r.state is MessageState.UNDELIVERED


def test_tlv_id_wins_and_text_stat_is_used():
    tlvs = [(p.TLV_RECEIPTED_MESSAGE_ID, b"FF\x00")]
    r = parse_receipt(esm_class=4, text="id:255 stat:DELIVRD", tlvs=tlvs)
    assert r is not None and r.message_id == "FF" and r.state is MessageState.DELIVERED


@pytest.mark.parametrize("text", ["", "delivered ok", "id:1 stat:WHATEVER", "stat:DELIVRD"])
def test_unreadable_receipts_return_none(text):
    assert parse_receipt(esm_class=4, text=text, tlvs=[]) is None


@given(s.text(max_size=200))
def test_parser_never_raises(text):
    parse_receipt(esm_class=4, text=text, tlvs=[(p.TLV_MESSAGE_STATE, b"")])


def test_ids_match_across_hex_and_decimal():
    m = ReceiptMatcher()
    m.register("1F4", "contact-1", 1)  # SMSC answered hex
    m.register("000777", "contact-2", 2)
    assert m.match("500") == ("contact-1", 1)  # receipt in decimal
    assert m.match("1f4") == ("contact-1", 1)
    assert m.match("777") == ("contact-2", 2)
    assert m.match("309") == ("contact-2", 2)  # 0x309 == 777
    assert m.match("999999") is None
    assert "500" in id_forms("1f4")


def test_matcher_is_bounded():
    m = ReceiptMatcher(capacity=2)
    for i in range(3):
        m.register(f"id{i}", i, 1)
    assert len(m) == 2 and m.match("id0") is None and m.match("id2") == (2, 1)


def test_transitions_are_guarded():
    s1 = transition(None, MessageState.SUBMITTED)
    assert transition(s1, MessageState.DELIVERED) is MessageState.DELIVERED
    with pytest.raises(IllegalTransition):
        transition(MessageState.DELIVERED, MessageState.UNDELIVERED)
    with pytest.raises(IllegalTransition):
        transition(None, MessageState.DELIVERED)


def test_receipt_times():
    from datetime import UTC, datetime

    assert parse_receipt_time("2611221205") == datetime(2026, 11, 22, 12, 5, tzinfo=UTC)
    assert parse_receipt_time("261122120559") == datetime(2026, 11, 22, 12, 5, 59, tzinfo=UTC)
    assert parse_receipt_time("2613221205") is None  # month 13
    assert parse_receipt_time(None) is None and parse_receipt_time("soon") is None


def test_mo_assembler_joins_parts_in_order_and_expires_incomplete_ones():
    from telcamp.channels.smpp import MoAssembler, MoEvent

    def part(seq: int, text: str, ref: int = 7, total: int = 3) -> MoEvent:
        return MoEvent("79001", "1234", text, 8, text.encode("utf-16-be"), (ref, total, seq), "b")

    asm = MoAssembler(max_age=10)
    assert asm.feed(part(2, "b"), now=0) is None
    assert asm.feed(part(1, "a"), now=1) is None
    assert asm.feed(part(1, "x", ref=9), now=2) is None
    whole = asm.feed(part(3, "c"), now=3)
    assert whole is not None and whole.text == "abc" and whole.concat is None
    single = MoEvent("79001", "1234", "STOP", 0, b"STOP", None, "b")
    assert asm.feed(single) is single
    assert asm.expire(now=5) == []
    left = asm.expire(now=12)
    assert [e.text for e in left] == ["x"] and asm.expire(now=100) == []


_STATS = {"DELIVRD": MessageState.DELIVERED, "UNDELIV": MessageState.UNDELIVERED,
          "EXPIRED": MessageState.EXPIRED, "REJECTD": MessageState.REJECTED,
          "DELETED": MessageState.UNDELIVERED}


@given(
    mid=s.from_regex(r"[0-9a-f]{1,20}", fullmatch=True),
    stat=s.sampled_from(sorted(_STATS)),
    err=s.from_regex(r"[0-9]{3}", fullmatch=True),
    optional=s.sets(s.sampled_from(["sub", "dlvrd", "submit date", "done date", "err"])),
    order=s.randoms(use_true_random=False),
    upper=s.booleans(),
    sep=s.sampled_from([" ", "  ", " \t"]),
    text=s.text(alphabet="abc xyz:", max_size=20),
)
def test_receipts_in_any_order_and_case_parse_back(mid, stat, err, optional, order, upper,
                                                    sep, text):
    fields = {"id": mid, "stat": stat} | {k: ("001" if k in ("sub", "dlvrd") else
                                              "2611221205" if "date" in k else err)
                                          for k in optional}
    keys = list(fields)
    order.shuffle(keys)
    parts = [f"{k.upper() if upper else k}:{fields[k]}" for k in keys]
    raw = sep.join(parts) + (f"{sep}text:{text}" if text else "")
    r = parse_receipt(esm_class=4, text=raw, tlvs=[])
    assert r is not None
    assert r.message_id == mid and r.state is _STATS[stat]
    assert r.err == (err if "err" in optional else None)
    assert r.done == ("2611221205" if "done date" in optional else None)
