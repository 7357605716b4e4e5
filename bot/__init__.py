"""Recert: a Telegram bot that keeps fitness professionals certified."""
