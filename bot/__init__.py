"""Recert: a Telegram bot that keeps fitness professionals certified."""

import os

# Opt in to PTB's coming behaviour now: durations such as RetryAfter.retry_after are
# timedeltas (PTB 22 warns otherwise, and 23 will do it anyway).
os.environ.setdefault("PTB_TIMEDELTA", "true")
