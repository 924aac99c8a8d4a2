"""Course Companion shared layer: settings, data access, cache, content, auth and domain rules."""
