"""SMPP 3.4 PDU codec for the operations the client uses.

A PDU is a 16-octet header (command_length, command_id, command_status, sequence_number)
and a body of mandatory parameters followed by TLVs. Decoding is strict about framing
(a length the stream cannot hold is a FramingError: the session must reset) and about
structure (a C-octet string without its NUL is a PduError naming the field), and liberal
about what peers commonly omit (an error response without a body, a submit_sm_resp
without message_id).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Literal

from telcamp.channels.smpp import status as st
from telcamp.channels.smpp.errors import FramingError, PduError

HEADER = struct.Struct(">IIII")
HEADER_LEN = 16
MAX_PDU_LENGTH = 70_000  # a 64 KiB message_payload plus the mandatory part

# TLV tags (SMPP 3.4 section 5.3.2)
TLV_RECEIPTED_MESSAGE_ID = 0x001E
TLV_USER_MESSAGE_REFERENCE = 0x0204
TLV_SAR_MSG_REF_NUM = 0x020C
TLV_SAR_TOTAL_SEGMENTS = 0x020E
TLV_SAR_SEGMENT_SEQNUM = 0x020F
TLV_SC_INTERFACE_VERSION = 0x0210
TLV_NETWORK_ERROR_CODE = 0x0423
TLV_MESSAGE_PAYLOAD = 0x0424
TLV_MORE_MESSAGES_TO_SEND = 0x0426
TLV_MESSAGE_STATE = 0x0427

Kind = Literal["c", "u8", "sm"]
Field = tuple[str, Kind, int]  # name, kind, max octets for C-octet strings (with the NUL)

BIND_BODY: tuple[Field, ...] = (
    ("system_id", "c", 16),
    ("password", "c", 9),
    ("system_type", "c", 13),
    ("interface_version", "u8", 0),
    ("addr_ton", "u8", 0),
    ("addr_npi", "u8", 0),
    ("address_range", "c", 41),
)
BIND_RESP_BODY: tuple[Field, ...] = (("system_id", "c", 16),)
SM_BODY: tuple[Field, ...] = (
    ("service_type", "c", 6),
    ("source_addr_ton", "u8", 0),
    ("source_addr_npi", "u8", 0),
    ("source_addr", "c", 21),
    ("dest_addr_ton", "u8", 0),
    ("dest_addr_npi", "u8", 0),
    ("destination_addr", "c", 21),
    ("esm_class", "u8", 0),
    ("protocol_id", "u8", 0),
    ("priority_flag", "u8", 0),
    ("schedule_delivery_time", "c", 17),
    ("validity_period", "c", 17),
    ("registered_delivery", "u8", 0),
    ("replace_if_present_flag", "u8", 0),
    ("data_coding", "u8", 0),
    ("sm_default_msg_id", "u8", 0),
    ("short_message", "sm", 254),
)
MESSAGE_ID_BODY: tuple[Field, ...] = (("message_id", "c", 65),)

BODIES: dict[int, tuple[Field, ...]] = {
    st.BIND_RECEIVER: BIND_BODY,
    st.BIND_TRANSMITTER: BIND_BODY,
    st.BIND_TRANSCEIVER: BIND_BODY,
    st.BIND_RECEIVER_RESP: BIND_RESP_BODY,
    st.BIND_TRANSMITTER_RESP: BIND_RESP_BODY,
    st.BIND_TRANSCEIVER_RESP: BIND_RESP_BODY,
    st.SUBMIT_SM: SM_BODY,
    st.DELIVER_SM: SM_BODY,
    st.SUBMIT_SM_RESP: MESSAGE_ID_BODY,
    st.DELIVER_SM_RESP: MESSAGE_ID_BODY,
    st.ENQUIRE_LINK: (),
    st.ENQUIRE_LINK_RESP: (),
    st.UNBIND: (),
    st.UNBIND_RESP: (),
    st.GENERIC_NACK: (),
}

Value = int | str | bytes


@dataclass(slots=True)
class Pdu:
    command_id: int
    command_status: int = 0
    sequence_number: int = 0
    params: dict[str, Value] = field(default_factory=dict)
    tlvs: list[tuple[int, bytes]] = field(default_factory=list)
    raw_body: bytes = b""  # kept for commands we do not know

    @property
    def name(self) -> str:
        return st.command_name(self.command_id)

    @property
    def is_response(self) -> bool:
        return bool(self.command_id & st.RESPONSE_BIT)

    def str_param(self, name: str) -> str:
        value = self.params.get(name, "")
        return value if isinstance(value, str) else ""

    def int_param(self, name: str) -> int:
        value = self.params.get(name, 0)
        return value if isinstance(value, int) else 0

    def bytes_param(self, name: str) -> bytes:
        value = self.params.get(name, b"")
        return value if isinstance(value, bytes) else b""

    def tlv(self, tag: int) -> bytes | None:
        for t, v in self.tlvs:
            if t == tag:
                return v
        return None


def tlv_int(value: bytes) -> int:
    return int.from_bytes(value, "big")


def tlv_cstr(value: bytes) -> str:
    end = value.find(0)
    return (value if end < 0 else value[:end]).decode("latin-1")


def _encode_body(fields: tuple[Field, ...], params: dict[str, Value], command: str) -> bytes:
    out = bytearray()
    for name, kind, size in fields:
        value = params.get(name)
        if kind == "u8":
            v = int(value or 0)
            if not 0 <= v <= 255:
                raise PduError(f"{command}.{name}={v} does not fit one octet", field=name)
            out.append(v)
        elif kind == "c":
            raw = (value or "").encode("latin-1") if isinstance(value, str) else bytes(value or b"")
            if len(raw) + 1 > size:
                raise PduError(
                    f"{command}.{name} is {len(raw)} octets; at most {size - 1} allowed",
                    field=name,
                )
            if 0 in raw:
                raise PduError(f"{command}.{name} contains a NUL octet", field=name)
            out += raw
            out.append(0)
        else:  # short_message with its sm_length
            raw = bytes(value or b"")  # type: ignore[arg-type]
            if len(raw) > size:
                raise PduError(
                    f"{command}.short_message is {len(raw)} octets; at most {size} "
                    "(use message_payload for longer)",
                    field=name,
                )
            out.append(len(raw))
            out += raw
    return bytes(out)


def encode_tlvs(tlvs: list[tuple[int, bytes]]) -> bytes:
    return b"".join(struct.pack(">HH", tag, len(v)) + v for tag, v in tlvs)


def encode_body(pdu: Pdu) -> bytes:
    fields = BODIES.get(pdu.command_id)
    if fields is None:
        return pdu.raw_body
    if pdu.is_response and pdu.command_status != 0 and not pdu.params and not pdu.tlvs:
        return b""  # error responses carry no body (SMPP 3.4 section 3.3)
    return _encode_body(fields, pdu.params, pdu.name) + encode_tlvs(pdu.tlvs)


def encode(pdu: Pdu) -> bytes:
    body = encode_body(pdu)
    return HEADER.pack(HEADER_LEN + len(body), pdu.command_id, pdu.command_status,
                       pdu.sequence_number) + body


def frame(command_id: int, sequence: int, body: bytes = b"", status: int = 0) -> bytes:
    """Header + an already encoded body (the hot path re-frames one body per retry)."""
    return HEADER.pack(HEADER_LEN + len(body), command_id, status, sequence) + body


def check_length(command_length: int) -> None:
    if command_length < HEADER_LEN or command_length > MAX_PDU_LENGTH:
        raise FramingError(
            f"command_length {command_length} outside {HEADER_LEN}..{MAX_PDU_LENGTH}",
            field="command_length",
        )


def decode(data: bytes | memoryview) -> Pdu:
    """Decode one complete PDU (len(data) must equal its command_length)."""
    data = bytes(data)
    if len(data) < HEADER_LEN:
        raise FramingError(f"{len(data)} octets is shorter than a PDU header")
    length, command_id, status, seq = HEADER.unpack_from(data, 0)
    check_length(length)
    if length != len(data):
        raise FramingError(f"command_length {length} but {len(data)} octets given")
    fields = BODIES.get(command_id)
    pdu = Pdu(command_id, status, seq)
    if fields is None:
        pdu.raw_body = data[HEADER_LEN:]
        return pdu
    if length == HEADER_LEN and (command_id & st.RESPONSE_BIT):
        return pdu  # error (or bodiless) responses
    pos = HEADER_LEN
    name = pdu.name
    for fname, kind, _size in fields:
        if pos >= length:
            if command_id & st.RESPONSE_BIT:
                break  # liberal: some SMSCs omit trailing response fields
            raise PduError(f"{name} ends before {fname}", field=fname, sequence=seq)
        if kind == "u8":
            pdu.params[fname] = data[pos]
            pos += 1
        elif kind == "c":
            end = data.find(0, pos, length)
            if end < 0:
                raise PduError(f"{name}.{fname} has no terminating NUL", field=fname,
                               sequence=seq)
            pdu.params[fname] = data[pos:end].decode("latin-1")
            pos = end + 1
        else:
            sm_len = data[pos]
            pos += 1
            if pos + sm_len > length:
                raise PduError(f"{name}.sm_length {sm_len} runs past the PDU end",
                               field="short_message", sequence=seq)
            pdu.params[fname] = data[pos : pos + sm_len]
            pos += sm_len
    while pos < length:
        if pos + 4 > length:
            raise PduError(f"{name}: truncated TLV header at octet {pos}", field="tlv",
                           sequence=seq)
        tag, tlen = struct.unpack_from(">HH", data, pos)
        pos += 4
        if pos + tlen > length:
            raise PduError(f"{name}: TLV 0x{tag:04X} length {tlen} runs past the PDU end",
                           field=f"tlv 0x{tag:04X}", sequence=seq)
        pdu.tlvs.append((tag, data[pos : pos + tlen]))
        pos += tlen
    return pdu


def _cstr(value: str, size: int, name: str) -> bytes:
    if not value:
        return b""
    raw = value.encode("latin-1")
    if len(raw) >= size or 0 in raw:
        raise PduError(f"submit_sm.{name} {value!r}: at most {size - 1} octets, no NUL",
                       field=name)
    return raw


def submit_sm_body(
    *,
    source_addr: str,
    destination_addr: str,
    short_message: bytes,
    data_coding: int = 0,
    esm_class: int = 0,
    registered_delivery: int = 0,
    source_addr_ton: int = 0,
    source_addr_npi: int = 0,
    dest_addr_ton: int = 1,
    dest_addr_npi: int = 1,
    service_type: str = "",
    validity_period: str = "",
    tlvs: list[tuple[int, bytes]] | None = None,
) -> bytes:
    """submit_sm body, written directly (the generic encoder is 5x slower on the hot path);
    the property tests check it against `decode`."""
    if len(short_message) > 254:
        raise PduError("submit_sm.short_message over 254 octets (use message_payload)",
                       field="short_message")
    return b"".join((
        _cstr(service_type, 6, "service_type"), b"\0",
        bytes((source_addr_ton, source_addr_npi)),
        _cstr(source_addr, 21, "source_addr"), b"\0",
        bytes((dest_addr_ton, dest_addr_npi)),
        _cstr(destination_addr, 21, "destination_addr"), b"\0",
        bytes((esm_class, 0, 0)), b"\0",  # protocol_id, priority, schedule_delivery_time
        _cstr(validity_period, 17, "validity_period"), b"\0",
        bytes((registered_delivery, 0, data_coding, 0, len(short_message))),
        short_message,
        encode_tlvs(tlvs) if tlvs else b"",
    ))


def bind_pdu(command_id: int, *, system_id: str, password: str, system_type: str = "",
             interface_version: int = 0x34, addr_ton: int = 0, addr_npi: int = 0,
             address_range: str = "") -> Pdu:
    return Pdu(command_id, params={
        "system_id": system_id, "password": password, "system_type": system_type,
        "interface_version": interface_version, "addr_ton": addr_ton, "addr_npi": addr_npi,
        "address_range": address_range,
    })
