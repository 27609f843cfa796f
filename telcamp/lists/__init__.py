"""Special lists (blacklist, greylist, opt-out, test, custom) and default exclusions."""
