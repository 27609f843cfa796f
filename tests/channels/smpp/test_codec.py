"""PDU codec, GSM-7 and splitting: property tests (hypothesis) and the cases that matter."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as s

from telcamp.channels.smpp import gsm7
from telcamp.channels.smpp import pdu as p
from telcamp.channels.smpp import status as st
from telcamp.channels.smpp.errors import FramingError, PduError
from telcamp.channels.smpp.split import (
    DC_DEFAULT,
    DC_UCS2,
    chunk,
    decode_text,
    encode_message,
    parse_concat_udh,
)

GSM_CHARS = [c for i, c in enumerate(gsm7.BASIC) if i != gsm7.ESC] + list(gsm7.EXTENSION)
gsm_text = s.text(alphabet=s.sampled_from(GSM_CHARS), max_size=800)
any_text = s.text(
    alphabet=s.characters(blacklist_categories=("Cs",)) | s.sampled_from(["😀", "€", "{", "Я"]),
    max_size=600,
)
cstr = lambda n: s.text(alphabet=s.characters(min_codepoint=1, max_codepoint=255),  # noqa: E731
                        max_size=n - 1)
u8 = s.integers(0, 255)
tlv = s.tuples(s.integers(0, 0xFFFF), s.binary(max_size=300))


@settings(max_examples=300)
@given(service_type=cstr(6), src=cstr(21), dst=cstr(21), sm=s.binary(max_size=254),
       esm=u8, dc=u8, rd=u8, ton=u8, npi=u8, vp=cstr(17), tlvs=s.lists(tlv, max_size=4),
       seq=s.integers(1, 0x7FFFFFFF))
def test_submit_sm_round_trip(service_type, src, dst, sm, esm, dc, rd, ton, npi, vp, tlvs, seq):
    body = p.submit_sm_body(source_addr=src, destination_addr=dst, short_message=sm,
                            data_coding=dc, esm_class=esm, registered_delivery=rd,
                            source_addr_ton=ton, source_addr_npi=npi, service_type=service_type,
                            validity_period=vp, tlvs=tlvs)
    decoded = p.decode(p.frame(st.SUBMIT_SM, seq, body))
    assert decoded.sequence_number == seq
    assert decoded.params["source_addr"] == src
    assert decoded.params["destination_addr"] == dst
    assert decoded.params["short_message"] == sm
    assert decoded.params["esm_class"] == esm
    assert decoded.params["data_coding"] == dc
    assert decoded.params["registered_delivery"] == rd
    assert decoded.params["service_type"] == service_type
    assert decoded.params["validity_period"] == vp
    assert decoded.tlvs == tlvs
    # the generic encoder writes the same octets as the fast path
    assert p.encode(decoded) == p.frame(st.SUBMIT_SM, seq, body)


@given(cid=s.sampled_from([st.BIND_TRANSCEIVER, st.BIND_TRANSMITTER, st.BIND_RECEIVER]),
       sid=cstr(16), pw=cstr(9), stype=cstr(13), rng=cstr(41), seq=s.integers(0, 2**31))
def test_bind_round_trip(cid, sid, pw, stype, rng, seq):
    pdu = p.bind_pdu(cid, system_id=sid, password=pw, system_type=stype, address_range=rng)
    pdu.sequence_number = seq
    back = p.decode(p.encode(pdu))
    assert back == pdu


@given(cid=s.sampled_from(list(p.BODIES)), status=s.integers(0, 0xFFFF),
       seq=s.integers(0, 2**31))
def test_every_command_round_trips_with_defaults(cid, status, seq):
    fields = p.BODIES[cid]
    params = {n: ("" if k == "c" else b"" if k == "sm" else 0) for n, k, _ in fields}
    pdu = p.Pdu(cid, status if cid & st.RESPONSE_BIT else 0, seq, params)
    back = p.decode(p.encode(pdu))
    assert back.command_id == cid and back.sequence_number == seq
    if back.params:
        assert back.params == params


def test_error_response_without_body_decodes():
    back = p.decode(p.frame(st.SUBMIT_SM_RESP, 7, status=st.ESME_RTHROTTLED))
    assert back.command_status == st.ESME_RTHROTTLED
    assert back.str_param("message_id") == ""


@pytest.mark.parametrize(("raw", "error", "field"), [
    (p.HEADER.pack(8, st.SUBMIT_SM_RESP, 0, 1), FramingError, "command_length"),
    (p.HEADER.pack(10**6, st.SUBMIT_SM_RESP, 0, 1), FramingError, "command_length"),
    (p.frame(st.SUBMIT_SM_RESP, 1, b"abc"), PduError, "message_id"),
    (p.frame(st.DELIVER_SM, 1, b"\x00\x01\x01a\x00\x01\x01b"), PduError, "destination_addr"),
    (p.frame(st.DELIVER_SM, 1, p.submit_sm_body(source_addr="a", destination_addr="b",
                                                short_message=b"hi")[:-1]),
     PduError, "short_message"),
    (p.frame(st.DELIVER_SM, 1, p.submit_sm_body(source_addr="a", destination_addr="b",
                                                short_message=b"") + b"\x04\x24\x00\x09ab"),
     PduError, "tlv 0x0424"),
])
def test_malformed_pdus_name_the_field(raw, error, field):
    with pytest.raises(error) as exc:
        p.decode(raw)
    assert exc.value.field == field


def test_encoder_refuses_values_that_do_not_fit():
    with pytest.raises(PduError, match="destination_addr"):
        p.submit_sm_body(source_addr="x", destination_addr="1" * 21, short_message=b"")
    with pytest.raises(PduError, match="short_message"):
        p.submit_sm_body(source_addr="x", destination_addr="1", short_message=b"x" * 255)


# -- GSM 03.38 --------------------------------------------------------------------------
@given(gsm_text)
def test_gsm7_round_trip_and_septet_count(text):
    septets = gsm7.encode(text)
    assert gsm7.decode(septets) == text
    assert len(septets) == gsm7.septet_length(text)
    assert all(b < 0x80 for b in septets)


@given(s.binary(max_size=300).map(lambda b: bytes(x & 0x7F for x in b)), s.integers(0, 6))
def test_septet_packing_round_trip(septets, fill):
    packed = gsm7.pack(septets, fill)
    assert len(packed) == (len(septets) * 7 + fill + 7) // 8
    assert gsm7.unpack(packed, len(septets), fill) == septets


def test_gsm7_known_vectors():
    # 3GPP 23.038 example: "hellohello" packs to E8329BFD4697D9EC37
    assert gsm7.pack(gsm7.encode("hellohello")).hex().upper() == "E8329BFD4697D9EC37"
    assert gsm7.encode("€[") == bytes([0x1B, 0x65, 0x1B, 0x3C])
    assert gsm7.encode("@£") == bytes([0x00, 0x01])
    with pytest.raises(ValueError, match="'ж' at position 2"):
        gsm7.encode("abж")


# -- splitting --------------------------------------------------------------------------
def _reassemble(text, **kw):
    enc = encode_message(text, **kw)
    out = []
    for seg in enc.segments:
        udhi = enc.concatenated and enc.method == "udh"
        sm = seg.short_message
        if kw.get("gsm7_packed") and enc.data_coding == DC_DEFAULT:
            head = sm[: sm[0] + 1] if udhi else b""
            n = len(seg.text) + sum(1 for c in seg.text if c in gsm7.EXTENSION)
            sm = head + gsm7.unpack(sm[len(head):], n, 1 if udhi else 0)
        out.append(decode_text(sm, enc.data_coding, udhi=udhi))
    return enc, out


@settings(max_examples=300)
@given(text=gsm_text | any_text, method=s.sampled_from(["udh", "sar"]), ref=u8,
       packed=s.booleans())
def test_split_never_breaks_escapes_or_surrogates_and_reassembles(text, method, ref, packed):
    enc, parts = _reassemble(text, method=method, ref=ref, gsm7_packed=packed)
    assert "".join(parts) == text
    assert [seg.text for seg in enc.segments] == parts
    gsm = enc.data_coding == DC_DEFAULT
    for seg in enc.segments:
        if gsm:
            septets = gsm7.encode(seg.text)
            assert septets[-1:] != b"\x1b"  # no dangling escape at a part's end
            limit = 160 if len(enc.segments) == 1 else 153
            assert len(septets) <= limit
        else:
            units = seg.text.encode("utf-16-be")
            assert len(units) <= (140 if len(enc.segments) == 1 else 134)
            if units:
                assert not 0xD800 <= int.from_bytes(units[-2:], "big") <= 0xDBFF
        if enc.concatenated and method == "udh":
            assert parse_concat_udh(seg.short_message) == (ref, seg.total, seg.seq)
        assert len(seg.short_message) <= 140


def test_coding_is_chosen_per_message():
    assert encode_message("Hello {you} €5").data_coding == DC_DEFAULT
    assert encode_message("Привет").data_coding == DC_UCS2
    assert encode_message("ok 😀").data_coding == DC_UCS2
    assert encode_message("plain", encoding="ucs2").data_coding == DC_UCS2


def test_part_boundaries_at_the_limits():
    assert len(encode_message("a" * 160).segments) == 1
    assert len(encode_message("a" * 161).segments) == 2
    assert len(encode_message("€" * 80).segments) == 1  # 160 septets
    # 152 septets of 'a' then '€' (2 septets) would make 154: the € moves whole to part 2
    assert chunk("a" * 152 + "€" + "b", gsm=True, limit=153) == ["a" * 152, "€b"]
    assert len(encode_message("я" * 70).segments) == 1
    assert len(encode_message("я" * 71).segments) == 2
    # 66 units + an emoji (2 units) would make 68: the pair moves whole to part 2
    assert chunk("я" * 66 + "😀", gsm=False, limit=67) == ["я" * 66, "😀"]
