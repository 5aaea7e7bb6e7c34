"""The core of the mock, which knows no API generation: clock, scheduler, store, users, scenarios.

Nothing here knows HTTP or the shape of any generation's rows; `mockserver.v1` (and each later
generation) turns what the core holds into its own wire shapes.
"""
