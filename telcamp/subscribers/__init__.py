"""Customer-service lookup of one subscriber: every contact and why (capability 14/8)."""
