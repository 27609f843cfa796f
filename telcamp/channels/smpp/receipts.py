"""Delivery receipts: tolerant parsing, message states and matching to message ids.

A receipt arrives as a deliver_sm with esm_class bit 0x04 (or 0x08/0x10..0x20 for
intermediate notifications) whose text follows, more or less, SMPP 3.4 Appendix B:
``id:IIIIIIIIII sub:SSS dlvrd:DDD submit date:YYMMDDhhmm done date:YYMMDDhhmm stat:DDDDDDD
err:E text:...``, and/or carries the receipted_message_id and message_state TLVs.
SMSCs differ (field order and case, missing fields, ids in hex in one place and decimal in
the other), so the parser looks for each key wherever it is and the matcher tries the
other radix. Anything unparseable is still returned to the caller (as raw), never dropped.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from enum import StrEnum

from telcamp.channels.smpp import pdu as p
from telcamp.core.errors import IllegalTransition


class MessageState(StrEnum):
    SUBMITTED = "submitted"
    DELIVERED = "delivered"
    UNDELIVERED = "undelivered"
    EXPIRED = "expired"
    REJECTED = "rejected"
    UNKNOWN = "unknown"  # submit_sm written, its answer lost (only with resubmit_unknown off)


FINAL_STATES = {MessageState.DELIVERED, MessageState.UNDELIVERED, MessageState.EXPIRED,
                MessageState.REJECTED}

# the one guarded transition table: FROM -> allowed TO states
TRANSITIONS: dict[MessageState | None, set[MessageState]] = {
    None: {MessageState.SUBMITTED, MessageState.REJECTED, MessageState.UNKNOWN},
    MessageState.SUBMITTED: set(FINAL_STATES),
    # a receipt matched later (user_message_reference, destination) settles an unknown
    MessageState.UNKNOWN: set(FINAL_STATES) | {MessageState.SUBMITTED},
}


def transition(current: MessageState | None, to: MessageState) -> MessageState:
    """Guarded state change of one message part. A final state is final: a late or
    repeated receipt must not move a delivered message back to undelivered."""
    if to not in TRANSITIONS.get(current, set()):
        raise IllegalTransition(
            f"message state {current.value if current else 'new'} -> {to.value} not allowed"
        )
    return to


# stat: words (Appendix B) -> state; intermediate ones keep the message 'submitted'
STAT_WORDS: dict[str, MessageState] = {
    "DELIVRD": MessageState.DELIVERED,
    "DELIVERED": MessageState.DELIVERED,
    "EXPIRED": MessageState.EXPIRED,
    "DELETED": MessageState.UNDELIVERED,
    "UNDELIV": MessageState.UNDELIVERED,
    "UNDELIVERABLE": MessageState.UNDELIVERED,
    "FAILED": MessageState.UNDELIVERED,
    "UNKNOWN": MessageState.UNDELIVERED,
    "REJECTD": MessageState.REJECTED,
    "REJECTED": MessageState.REJECTED,
    "ACCEPTD": MessageState.SUBMITTED,
    "ACCEPTED": MessageState.SUBMITTED,
    "ENROUTE": MessageState.SUBMITTED,
}

# message_state TLV values (SMPP 3.4 section 5.2.28)
TLV_STATES: dict[int, MessageState] = {
    1: MessageState.SUBMITTED,  # ENROUTE
    2: MessageState.DELIVERED,
    3: MessageState.EXPIRED,
    4: MessageState.UNDELIVERED,  # DELETED
    5: MessageState.UNDELIVERED,
    6: MessageState.SUBMITTED,  # ACCEPTED
    7: MessageState.UNDELIVERED,  # UNKNOWN
    8: MessageState.REJECTED,
}

_KEYS = re.compile(
    r"(?<![A-Za-z])(id|sub|dlvrd|submit[ _]?date|done[ _]?date|stat|err|text)\s*:",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Receipt:
    message_id: str
    state: MessageState
    stat: str  # the SMSC's word, or "tlv:<n>"
    err: str | None = None
    submitted: str | None = None
    done: str | None = None
    delivered_count: str | None = None
    text: str | None = None
    intermediate: bool = False  # not final (ENROUTE/ACCEPTD): the message stays 'submitted'
    user_message_reference: int | None = None  # echoed by the SMSC when it does


def parse_receipt_time(value: str | None, tz: tzinfo = UTC) -> datetime | None:
    """'submit date'/'done date' (YYMMDDhhmm, optionally ss) as a datetime in `tz` (the
    SMSC's clock; Appendix B gives no zone). None when absent or unreadable."""
    digits = (value or "").strip()
    if not digits.isdigit() or len(digits) not in (10, 12):
        return None
    try:
        return datetime(2000 + int(digits[0:2]), int(digits[2:4]), int(digits[4:6]),
                        int(digits[6:8]), int(digits[8:10]),
                        int(digits[10:12]) if len(digits) == 12 else 0, tzinfo=tz)
    except ValueError:
        return None


def parse_receipt_text(text: str) -> dict[str, str]:
    """key -> value for every Appendix B key present, wherever it is. 'text' takes the rest."""
    found: dict[str, str] = {}
    matches = list(_KEYS.finditer(text))
    for i, m in enumerate(matches):
        key = m.group(1).lower().replace("_", " ")
        key = {"submitdate": "submit date", "donedate": "done date"}.get(key, key)
        if key in found:
            continue
        if key == "text":
            found[key] = text[m.end() :].strip()
            break
        end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
        found[key] = text[m.end() : end].strip()
    return found


def parse_receipt(*, esm_class: int, text: str, tlvs: list[tuple[int, bytes]]) -> Receipt | None:
    """A receipt from a deliver_sm's decoded text and TLVs; None when it is not one we can
    read (the caller then hands it on as raw, and still acknowledges it)."""
    fields = parse_receipt_text(text) if text else {}
    tlv_id = next((p.tlv_cstr(v) for t, v in tlvs if t == p.TLV_RECEIPTED_MESSAGE_ID), None)
    tlv_state = next((p.tlv_int(v) for t, v in tlvs if t == p.TLV_MESSAGE_STATE and v), None)
    message_id = (tlv_id or fields.get("id") or "").strip()
    if not message_id:
        return None
    state: MessageState | None = None
    stat_word = (fields.get("stat") or "").strip().upper()
    if stat_word:
        stat_word = stat_word.split()[0]
        state = STAT_WORDS.get(stat_word)
    if state is None and tlv_state is not None:
        state = TLV_STATES.get(tlv_state)
        stat_word = f"tlv:{tlv_state}"
    if state is None:
        return None
    intermediate = state is MessageState.SUBMITTED
    umr = next((p.tlv_int(v) for t, v in tlvs if t == p.TLV_USER_MESSAGE_REFERENCE and v), None)
    return Receipt(
        message_id=message_id,
        state=state,
        stat=stat_word,
        err=fields.get("err"),
        submitted=fields.get("submit date"),
        done=fields.get("done date"),
        delivered_count=fields.get("dlvrd"),
        text=fields.get("text"),
        intermediate=intermediate,
        user_message_reference=umr,
    )


def is_receipt_pdu(esm_class: int) -> bool:
    """esm_class message type bits 2..5: 0x04 SMSC receipt, 0x08 SME ack, 0x10 manual ack,
    0x20 intermediate notification."""
    return bool(esm_class & 0x3C)


def normalise_id(message_id: str) -> str:
    return message_id.strip().lower().lstrip("0") or "0"


def id_forms(message_id: str) -> list[str]:
    """The id as given (normalised), then as the other radix reads it: SMSCs often answer
    submit_sm_resp with a hex id and write the receipt's id in decimal (or the reverse)."""
    raw = normalise_id(message_id)
    forms = [raw]
    if re.fullmatch(r"[0-9a-f]+", raw) and len(raw) <= 32:
        forms.append(str(int(raw, 16)))
    if raw.isdigit() and len(raw) <= 40:
        forms.append(format(int(raw), "x"))
    return list(dict.fromkeys(forms))


class ReceiptMatcher:
    """In-memory message id -> caller reference, for receipts arriving while the process
    lives. Bounded (oldest forgotten first); the dispatcher keeps the durable map in its
    own store and can look up `id_forms` there for receipts it does not find here."""

    def __init__(self, capacity: int = 1_000_000) -> None:
        self.capacity = capacity
        self._ids: OrderedDict[str, tuple[object, int]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._ids)

    def register(self, message_id: str, ref: object, part: int) -> None:
        self._ids[normalise_id(message_id)] = (ref, part)
        if len(self._ids) > self.capacity:
            self._ids.popitem(last=False)

    def match(self, message_id: str) -> tuple[object, int] | None:
        for form in id_forms(message_id):
            hit = self._ids.get(form)
            if hit is not None:
                return hit
        return None
