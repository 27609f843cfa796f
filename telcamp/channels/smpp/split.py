"""Choose GSM-7 or UCS-2 per message and split long messages into parts.

Parts are cut on character boundaries measured in the unit the air interface counts
(septets for GSM-7, UTF-16 code units for UCS-2), so an extension character (ESC + code)
or a surrogate pair (emoji) is never split in half. Concatenation is signalled either with
a UDH (IEI 0x00, 8-bit reference; esm_class 0x40) or with the sar_* TLVs; or the whole
text travels in one message_payload TLV for SMSCs that split themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from telcamp.channels.smpp import gsm7
from telcamp.channels.smpp.errors import MessageTooLong

SplitMethod = Literal["udh", "sar", "payload"]
Encoding = Literal["auto", "gsm7", "ucs2"]

DC_DEFAULT = 0x00  # SMSC default alphabet (GSM 03.38 here)
DC_UCS2 = 0x08
ESM_UDHI = 0x40

# capacity of one SMS (140 octets): single / part of a concatenated message (6-octet UDH)
GSM7_SINGLE, GSM7_PART = 160, 153
UCS2_SINGLE, UCS2_PART = 70, 67  # UTF-16 code units
MAX_PARTS = 255
MAX_PAYLOAD = 64 * 1024 - 1


@dataclass(frozen=True, slots=True)
class Segment:
    text: str  # the characters carried by this part
    short_message: bytes  # what goes on the wire (UDH + encoded text, or encoded text)
    seq: int  # 1-based
    total: int


@dataclass(frozen=True, slots=True)
class EncodedMessage:
    data_coding: int
    method: SplitMethod
    ref: int
    segments: tuple[Segment, ...]

    @property
    def concatenated(self) -> bool:
        return len(self.segments) > 1


def choose_coding(text: str, encoding: Encoding = "auto") -> int:
    if encoding == "ucs2":
        return DC_UCS2
    if encoding == "gsm7":
        gsm7.encode(text)  # raises a clear ValueError on the first character that does not fit
        return DC_DEFAULT
    return DC_DEFAULT if gsm7.is_gsm7(text) else DC_UCS2


def _units(ch: str, gsm: bool) -> int:
    if gsm:
        return gsm7.char_septets(ch)
    return 2 if ord(ch) > 0xFFFF else 1


def chunk(text: str, *, gsm: bool, limit: int) -> list[str]:
    """Greedy cut into pieces of at most `limit` units, only between characters."""
    pieces: list[str] = []
    start = 0
    used = 0
    for i, ch in enumerate(text):
        cost = _units(ch, gsm)
        if used + cost > limit:
            pieces.append(text[start:i])
            start, used = i, 0
        used += cost
    pieces.append(text[start:])
    return pieces


def _encode_text(text: str, dc: int, packed: bool, fill_bits: int = 0) -> bytes:
    if dc == DC_UCS2:
        return text.encode("utf-16-be")
    septets = gsm7.encode(text)
    return gsm7.pack(septets, fill_bits) if packed else septets


def udh(ref: int, total: int, seq: int) -> bytes:
    return bytes((0x05, 0x00, 0x03, ref & 0xFF, total, seq))


def encode_message(
    text: str,
    *,
    encoding: Encoding = "auto",
    method: SplitMethod = "udh",
    ref: int = 0,
    gsm7_packed: bool = False,
) -> EncodedMessage:
    dc = choose_coding(text, encoding)
    gsm = dc == DC_DEFAULT
    single, part = (GSM7_SINGLE, GSM7_PART) if gsm else (UCS2_SINGLE, UCS2_PART)
    # encode once: the whole text is the body of every single-part message (the hot path)
    whole = gsm7.encode(text, checked=True) if gsm else text.encode("utf-16-be")
    size = len(whole) if gsm else len(whole) // 2
    if size <= single or method == "payload":
        body = gsm7.pack(whole) if gsm and gsm7_packed else whole
        if len(body) > MAX_PAYLOAD:
            raise MessageTooLong(f"message of {size} units exceeds the message_payload limit")
        return EncodedMessage(dc, method, ref, (Segment(text, body, 1, 1),))
    pieces = chunk(text, gsm=gsm, limit=part)
    total = len(pieces)
    if total > MAX_PARTS:
        raise MessageTooLong(f"message needs {total} parts; SMS concatenation allows {MAX_PARTS}")
    segments = []
    for seq, piece in enumerate(pieces, start=1):
        if method == "udh":
            # 6-octet UDH = 48 bits; packed GSM-7 text starts on the next septet boundary
            body = udh(ref, total, seq) + _encode_text(piece, dc, gsm7_packed, fill_bits=1)
        else:
            body = _encode_text(piece, dc, gsm7_packed)
        segments.append(Segment(piece, body, seq, total))
    return EncodedMessage(dc, method, ref, tuple(segments))


def decode_text(short_message: bytes, data_coding: int, *, udhi: bool = False) -> str:
    """Text of one inbound/outbound short_message (UDH skipped when `udhi`). Unknown codings
    are read as Latin-1 so nothing raises on a peer's odd choice."""
    body = short_message
    if udhi and body:
        body = body[body[0] + 1 :]
    coding = data_coding & 0x0F if data_coding < 0xF0 else data_coding
    if coding == DC_UCS2:
        return body.decode("utf-16-be", errors="replace")
    if coding in (0x00, 0xF0, 0xF1, 0xF2, 0xF3):
        return gsm7.decode(body)
    if coding == 0x01:
        return body.decode("ascii", errors="replace")
    return body.decode("latin-1")


def parse_concat_udh(short_message: bytes) -> tuple[int, int, int] | None:
    """(ref, total, seq) from a concatenation UDH (8- or 16-bit reference), else None."""
    if not short_message:
        return None
    udhl = short_message[0]
    header = short_message[1 : 1 + udhl]
    i = 0
    while i + 2 <= len(header):
        iei, length = header[i], header[i + 1]
        value = header[i + 2 : i + 2 + length]
        if iei == 0x00 and length == 3 and len(value) == 3:
            return value[0], value[1], value[2]
        if iei == 0x08 and length == 4 and len(value) == 4:
            return (value[0] << 8) | value[1], value[2], value[3]
        i += 2 + length
    return None
