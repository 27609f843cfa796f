"""Errors of the SMPP layer. Each says what happened and, where it helps, what to fix."""

from __future__ import annotations

from telcamp.core.errors import TelcampError


class SmppError(TelcampError):
    code = "smpp_error"
    status = 502


class PduError(SmppError):
    """A PDU that cannot be decoded (or encoded): names the command and the field."""

    code = "smpp_malformed_pdu"

    def __init__(self, message: str, *, field: str | None = None, sequence: int | None = None):
        super().__init__(message, field=field)
        self.sequence = sequence


class FramingError(PduError):
    """The byte stream itself is broken (bad command_length): the session must reset."""

    code = "smpp_framing"


class BindRefused(SmppError):
    """The SMSC refused the credentials. Raised once; the bind is NOT retried automatically
    (a wrong password retried in a loop gets the account locked at many operators)."""

    code = "smpp_bind_refused"

    def __init__(self, message: str, *, command_status: int) -> None:
        super().__init__(message)
        self.command_status = command_status


class SmppClosed(SmppError):
    """The client or pool was closed (or every bind was refused) before the work was done."""

    code = "smpp_closed"


class SessionLost(SmppError):
    """The session ended while a request was outstanding; its outcome is unknown."""

    code = "smpp_session_lost"


class NotSent(SessionLost):
    """No session to send on: the request was certainly not written (safe to resubmit)."""

    code = "smpp_not_sent"


class MessageTooLong(SmppError):
    code = "smpp_message_too_long"
    status = 422
