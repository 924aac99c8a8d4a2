"""What each route (and each MCP tool) does, one function per route: given the caller and
plain arguments, the response body, or an ApiError (companion.errors).

The REST handlers in functions/* and the MCP tools in functions/mcp call these same
functions, so both answer alike (access gate, grading, streaks, idempotency, next step).
One module per endpoint group; the profile is companion.accounts.profile.
"""
