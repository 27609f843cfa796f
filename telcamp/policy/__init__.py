"""Contact policy (capability 7): one operator-wide policy, versioned, applied to every
campaign and channel when a wave is materialised and again just before each send.
See docs/policy.md."""
