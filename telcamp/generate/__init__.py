"""The synthetic operator: regions, tariffs, subscribers, usage, product events, payments."""
