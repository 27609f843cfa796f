"""Audit log: who changed what, when, before and after; append-only and hash-chained."""
