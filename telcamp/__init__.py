"""Telcamp: campaign management for mobile operators."""

__version__ = "0.1.0"
