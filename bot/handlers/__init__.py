"""Telegram handlers: thin async functions that parse an update, call the service and reply."""
