"""Users, roles, permissions, region scoping, PII masking."""
