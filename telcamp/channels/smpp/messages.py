"""Configuration, messages, results, inbound events and status snapshots of the SMPP layer."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from telcamp.channels.smpp.receipts import MessageState, Receipt
from telcamp.channels.smpp.split import Encoding, SplitMethod

BindType = Literal["transceiver", "transmitter", "receiver"]


@dataclass
class BindConfig:
    """One bind to an SMSC. Times in seconds."""

    host: str
    port: int
    system_id: str
    password: str
    name: str = ""  # shown on the status page; default system_id@host:port
    system_type: str = ""
    bind_type: BindType = "transceiver"
    addr_ton: int = 0
    addr_npi: int = 0
    address_range: str = ""
    window: int = 64  # outstanding submit_sm without a response
    tps: float | None = None  # submit_sm per second on this bind; None = no limit
    tps_burst: int = 1
    enquire_link_interval: float = 30.0
    response_timeout: float = 10.0
    connect_timeout: float = 5.0
    reconnect_initial: float = 0.5
    reconnect_max: float = 30.0
    throttle_initial: float = 0.2  # pause after ESME_RTHROTTLED / ESME_RMSGQFUL, doubling
    throttle_max: float = 10.0
    max_attempts: int = 5  # answers that say "retry" (RSYSERR, ...) before giving up
    max_backoffs: int = 1000  # throttle answers for one part before giving up
    split_method: SplitMethod = "udh"
    gsm7_packed: bool = False
    source_addr: str = ""
    source_addr_ton: int = 0
    source_addr_npi: int = 0
    dest_addr_ton: int = 1
    dest_addr_npi: int = 1
    service_type: str = ""
    registered_delivery: bool = True
    receipt_grace: float = 2.0  # how long an unmatched receipt waits for its submit_sm_resp
    # a part whose answer was lost (session ended, no answer in time): True = resubmit it
    # (at-least-once: a duplicate is possible), False = report the message UNKNOWN and
    # send nothing more of it (at-most-once: the dispatcher decides); see docs/smpp.md
    resubmit_unknown: bool = True

    def __post_init__(self) -> None:
        if not self.name:
            self.name = f"{self.system_id}@{self.host}:{self.port}"
        if self.window < 1:
            raise ValueError("window must be at least 1")


@dataclass
class OutboundSms:
    destination: str  # digits, country code first
    text: str
    source: str | None = None  # default: the bind's source_addr
    ref: object = None  # the caller's id (contact id); comes back on results and receipts
    encoding: Encoding = "auto"
    registered_delivery: bool | None = None
    validity_period: str = ""
    # sent as the user_message_reference TLV on every part; many SMSCs echo it in receipts,
    # which lets a restarted dispatcher recognise a contact whose submit_sm_resp was lost
    user_message_reference: int | None = None


@dataclass
class SubmitResult:
    ref: object
    state: MessageState  # SUBMITTED (every part accepted), REJECTED, or UNKNOWN (an answer
    # was lost and resubmit_unknown is off: the SMSC may or may not have it)
    message_ids: list[str | None]  # per part, None where the part was not accepted
    parts: int
    data_coding: int = 0
    command_status: int = 0  # the status that decided a rejection (0 if not from the SMSC)
    error: str | None = None
    attempts: int = 0  # submit_sm sent for all parts, retries included
    bind: str = ""

    @property
    def ok(self) -> bool:
        return self.state is MessageState.SUBMITTED


@dataclass(frozen=True)
class ReceiptEvent:
    receipt: Receipt
    ref: object  # the OutboundSms.ref of the matched message, None when orphan
    part: int | None
    orphan: bool
    bind: str


@dataclass(frozen=True)
class MoEvent:
    source: str
    destination: str
    text: str
    data_coding: int
    short_message: bytes
    concat: tuple[int, int, int] | None  # (ref, total, seq) of a multi-part MO
    bind: str


@dataclass(frozen=True)
class RawEvent:
    """A deliver_sm we could not read as a receipt: acknowledged, handed on, never dropped."""

    reason: str
    source: str
    destination: str
    esm_class: int
    text: str
    short_message: bytes
    tlvs: tuple[tuple[int, bytes], ...]
    bind: str


InboundEvent = ReceiptEvent | MoEvent | RawEvent


@dataclass
class BindStatus:
    name: str
    state: str  # connecting | bound | disconnected | backoff | refused | closed
    window_in_use: int
    window_size: int
    tps_limit: float | None
    rate: float  # accepted submit_sm per second over the last ~10 s
    submitted: int
    resubmitted: int
    throttled: int
    reconnects: int
    receipts: int
    orphans: int
    mo: int
    raw: int
    errors: dict[str, int] = field(default_factory=dict)
    last_error: str | None = None
    alerts: list[str] = field(default_factory=list)
