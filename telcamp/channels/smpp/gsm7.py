"""GSM 03.38 default alphabet with its extension table, septet-aware.

SMPP carries data_coding 0 text as one septet per octet (unpacked) at most SMSCs;
`pack`/`unpack` give the 7-bit packed form for SMSCs that want it (and for UDH fill bits).
Extension characters cost two septets (ESC + code) and must never be split apart.
"""

from __future__ import annotations

import re

ESC = 0x1B

# index = septet value (0x1B is the escape to the extension table)
BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)
assert len(BASIC) == 128

EXTENSION: dict[str, int] = {
    "\f": 0x0A,
    "^": 0x14,
    "{": 0x28,
    "}": 0x29,
    "\\": 0x2F,
    "[": 0x3C,
    "~": 0x3D,
    "]": 0x3E,
    "|": 0x40,
    "€": 0x65,
}

_ENCODE: dict[int, str] = {}
for _i, _ch in enumerate(BASIC):
    if _i != ESC:
        _ENCODE[ord(_ch)] = chr(_i)
for _ch, _code in EXTENSION.items():
    _ENCODE[ord(_ch)] = chr(ESC) + chr(_code)

_DECODE_BASIC = {i: ch for i, ch in enumerate(BASIC) if i != ESC}
_DECODE_EXT = {code: ch for ch, code in EXTENSION.items()}

_GSM_CHARS = "".join(ch for i, ch in enumerate(BASIC) if i != ESC) + "".join(EXTENSION)
_NOT_GSM = re.compile("[^" + re.escape(_GSM_CHARS) + "]")


def is_gsm7(text: str) -> bool:
    """True when every character exists in the default alphabet or its extension table."""
    return _NOT_GSM.search(text) is None


def char_septets(ch: str) -> int:
    """Septets one character costs: 2 for the extension table, 1 otherwise."""
    return 2 if ch in EXTENSION else 1


def septet_length(text: str) -> int:
    return len(text) + sum(1 for ch in text if ch in EXTENSION)


def encode(text: str, *, checked: bool = False) -> bytes:
    """Unpacked septets (one per octet). Raises ValueError naming the first bad character
    (`checked=True`: the caller already knows every character fits)."""
    bad = None if checked else _NOT_GSM.search(text)
    if bad is not None:
        raise ValueError(
            f"character {bad.group()!r} at position {bad.start()} is not in the GSM 03.38 alphabet"
        )
    return text.translate(_ENCODE).encode("latin-1")


def decode(septets: bytes) -> str:
    """Unpacked septets back to text. An unknown escape decodes as its basic character,
    as 03.38 says; a trailing lone ESC is dropped."""
    out: list[str] = []
    i = 0
    n = len(septets)
    while i < n:
        b = septets[i] & 0x7F
        if b == ESC:
            if i + 1 < n:
                nxt = septets[i + 1] & 0x7F
                out.append(_DECODE_EXT.get(nxt, _DECODE_BASIC.get(nxt, " ")))
            i += 2
            continue
        out.append(_DECODE_BASIC[b])
        i += 1
    return "".join(out)


def pack(septets: bytes, fill_bits: int = 0) -> bytes:
    """Pack septets into octets, LSB first (3GPP 23.038 6.1.2.1), after `fill_bits` zero bits
    (used to align text after a UDH)."""
    acc = 0
    nbits = fill_bits
    out = bytearray()
    for s in septets:
        acc |= (s & 0x7F) << nbits
        nbits += 7
        while nbits >= 8:
            out.append(acc & 0xFF)
            acc >>= 8
            nbits -= 8
    if nbits:
        out.append(acc & 0xFF)
    return bytes(out)


def unpack(data: bytes, count: int, fill_bits: int = 0) -> bytes:
    """Inverse of `pack`: read `count` septets after `fill_bits` bits."""
    value = int.from_bytes(data, "little")
    value >>= fill_bits
    return bytes((value >> (7 * i)) & 0x7F for i in range(count))
