"""Outbound channels (capability 8): the protocol layers the dispatcher sends through.

Only the SMPP 3.4 client layer lives here so far (`telcamp.channels.smpp`); the outbox,
contact policy and the other channels are built on top of it.
"""
