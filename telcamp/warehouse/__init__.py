"""Subscriber warehouse: the analytical store every capability queries."""
