"""Dispatch (capability 8): the outbox of due contacts, channel workers, exactly-once
reconciliation, receipts and the contact-history write-back. See docs/dispatch.md."""
