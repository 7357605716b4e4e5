"""Nudge planning (pure functions of state and now) and the jobs that run it."""
