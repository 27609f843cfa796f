"""SMPP 3.4 command ids, command_status codes and what the client does with each status.

The handling table is the single place that decides retry / fail / back off for a
submit_sm_resp (or generic_nack) status; docs/smpp.md prints it.
"""

from __future__ import annotations

from enum import StrEnum

# command ids (SMPP 3.4 section 5.1.2.1)
GENERIC_NACK = 0x80000000
BIND_RECEIVER = 0x00000001
BIND_RECEIVER_RESP = 0x80000001
BIND_TRANSMITTER = 0x00000002
BIND_TRANSMITTER_RESP = 0x80000002
SUBMIT_SM = 0x00000004
SUBMIT_SM_RESP = 0x80000004
DELIVER_SM = 0x00000005
DELIVER_SM_RESP = 0x80000005
UNBIND = 0x00000006
UNBIND_RESP = 0x80000006
BIND_TRANSCEIVER = 0x00000009
BIND_TRANSCEIVER_RESP = 0x80000009
ENQUIRE_LINK = 0x00000015
ENQUIRE_LINK_RESP = 0x80000015

RESPONSE_BIT = 0x80000000

COMMAND_NAMES: dict[int, str] = {
    GENERIC_NACK: "generic_nack",
    BIND_RECEIVER: "bind_receiver",
    BIND_RECEIVER_RESP: "bind_receiver_resp",
    BIND_TRANSMITTER: "bind_transmitter",
    BIND_TRANSMITTER_RESP: "bind_transmitter_resp",
    SUBMIT_SM: "submit_sm",
    SUBMIT_SM_RESP: "submit_sm_resp",
    DELIVER_SM: "deliver_sm",
    DELIVER_SM_RESP: "deliver_sm_resp",
    UNBIND: "unbind",
    UNBIND_RESP: "unbind_resp",
    BIND_TRANSCEIVER: "bind_transceiver",
    BIND_TRANSCEIVER_RESP: "bind_transceiver_resp",
    ENQUIRE_LINK: "enquire_link",
    ENQUIRE_LINK_RESP: "enquire_link_resp",
}

# command_status values we name (SMPP 3.4 section 5.1.3)
ESME_ROK = 0x00
ESME_RINVMSGLEN = 0x01
ESME_RINVCMDLEN = 0x02
ESME_RINVCMDID = 0x03
ESME_RINVBNDSTS = 0x04
ESME_RALYBND = 0x05
ESME_RSYSERR = 0x08
ESME_RINVSRCADR = 0x0A
ESME_RINVDSTADR = 0x0B
ESME_RBINDFAIL = 0x0D
ESME_RINVPASWD = 0x0E
ESME_RINVSYSID = 0x0F
ESME_RMSGQFUL = 0x14
ESME_RSUBMITFAIL = 0x45
ESME_RTHROTTLED = 0x58
ESME_RX_T_APPN = 0x64
ESME_RUNKNOWNERR = 0xFF


class Action(StrEnum):
    """What the client does when a request is answered with a status."""

    OK = "ok"
    RETRY = "retry"  # transient: resubmit (counts against max_attempts)
    BACKOFF = "backoff"  # SMSC overloaded: pause the bind, then resubmit
    FAIL = "fail"  # permanent: the message is rejected, never resubmitted
    REBIND = "rebind"  # session state is wrong: reset the session, then resubmit
    BIND_FATAL = "bind_fatal"  # credentials refused: alert, no automatic retry


# status -> (name, action). Anything not listed is FAIL (never resend what we do not
# understand: a blind retry of an unknown error can only duplicate or storm).
STATUS_TABLE: dict[int, tuple[str, Action]] = {
    0x00: ("ESME_ROK", Action.OK),
    0x01: ("ESME_RINVMSGLEN", Action.FAIL),
    0x02: ("ESME_RINVCMDLEN", Action.FAIL),
    0x03: ("ESME_RINVCMDID", Action.FAIL),
    0x04: ("ESME_RINVBNDSTS", Action.REBIND),
    0x05: ("ESME_RALYBND", Action.REBIND),
    0x06: ("ESME_RINVPRTFLG", Action.FAIL),
    0x07: ("ESME_RINVREGDLVFLG", Action.FAIL),
    0x08: ("ESME_RSYSERR", Action.RETRY),
    0x0A: ("ESME_RINVSRCADR", Action.FAIL),
    0x0B: ("ESME_RINVDSTADR", Action.FAIL),
    0x0C: ("ESME_RINVMSGID", Action.FAIL),
    0x0D: ("ESME_RBINDFAIL", Action.BIND_FATAL),
    0x0E: ("ESME_RINVPASWD", Action.BIND_FATAL),
    0x0F: ("ESME_RINVSYSID", Action.BIND_FATAL),
    0x14: ("ESME_RMSGQFUL", Action.BACKOFF),
    0x33: ("ESME_RINVNUMDESTS", Action.FAIL),
    0x40: ("ESME_RINVESMCLASS", Action.FAIL),
    0x42: ("ESME_RCNTSUBDL", Action.FAIL),
    0x45: ("ESME_RSUBMITFAIL", Action.RETRY),
    0x48: ("ESME_RINVSRCTON", Action.FAIL),
    0x49: ("ESME_RINVSRCNPI", Action.FAIL),
    0x50: ("ESME_RINVDSTTON", Action.FAIL),
    0x51: ("ESME_RINVDSTNPI", Action.FAIL),
    0x53: ("ESME_RINVSYSTYP", Action.BIND_FATAL),
    0x58: ("ESME_RTHROTTLED", Action.BACKOFF),
    0x61: ("ESME_RINVSCHED", Action.FAIL),
    0x62: ("ESME_RINVEXPIRY", Action.FAIL),
    0x63: ("ESME_RINVDFTMSGID", Action.FAIL),
    0x64: ("ESME_RX_T_APPN", Action.RETRY),
    0x65: ("ESME_RX_P_APPN", Action.FAIL),
    0x66: ("ESME_RX_R_APPN", Action.FAIL),
    0xC0: ("ESME_RINVOPTPARSTREAM", Action.FAIL),
    0xC1: ("ESME_ROPTPARNOTALLWD", Action.FAIL),
    0xC2: ("ESME_RINVPARLEN", Action.FAIL),
    0xC3: ("ESME_RMISSINGOPTPARAM", Action.FAIL),
    0xC4: ("ESME_RINVOPTPARAMVAL", Action.FAIL),
    0xFE: ("ESME_RDELIVERYFAILURE", Action.FAIL),
    0xFF: ("ESME_RUNKNOWNERR", Action.RETRY),
}


def action_for(status: int) -> Action:
    entry = STATUS_TABLE.get(status)
    return entry[1] if entry else Action.FAIL


def status_name(status: int) -> str:
    entry = STATUS_TABLE.get(status)
    return entry[0] if entry else f"0x{status:08X}"


def command_name(command_id: int) -> str:
    return COMMAND_NAMES.get(command_id, f"0x{command_id:08X}")
