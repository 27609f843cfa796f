"""Our own asyncio SMPP 3.4 client layer (ESME side).

Public surface for the dispatcher:

- `BindConfig`, `SmppClient` (one bind), `SmppPool` (several binds to one SMSC);
- `OutboundSms` -> `await submit(msg)` -> `SubmitResult` (message id per part);
- inbound `ReceiptEvent` / `MoEvent` / `RawEvent` through a callback or `events()`;
- `status()` snapshots for the channel status page.

See docs/smpp.md for what is supported and the per-status handling table.
"""

from telcamp.channels.smpp.client import SmppClient
from telcamp.channels.smpp.errors import BindRefused, SmppClosed, SmppError
from telcamp.channels.smpp.inbound import MoAssembler
from telcamp.channels.smpp.messages import (
    BindConfig,
    BindStatus,
    InboundEvent,
    MoEvent,
    OutboundSms,
    RawEvent,
    ReceiptEvent,
    SubmitResult,
)
from telcamp.channels.smpp.pool import SmppPool
from telcamp.channels.smpp.receipts import MessageState, Receipt, parse_receipt

__all__ = [
    "BindConfig",
    "BindRefused",
    "BindStatus",
    "InboundEvent",
    "MessageState",
    "MoAssembler",
    "MoEvent",
    "OutboundSms",
    "RawEvent",
    "Receipt",
    "ReceiptEvent",
    "SmppClient",
    "SmppClosed",
    "SmppError",
    "SmppPool",
    "SubmitResult",
    "parse_receipt",
]
