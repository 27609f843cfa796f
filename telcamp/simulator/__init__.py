"""Simulated peers for the demo and local trials (an SMSC for the SMS channel)."""
