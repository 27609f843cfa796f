"""Validating loader: operator files (CSV, Parquet) into the warehouse."""
