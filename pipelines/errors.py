"""Errors shown to people: the message is Chinese and says what to do."""

__all__ = ["BiduiError"]


class BiduiError(Exception):
    """A problem the user can act on; the CLI prints the message without a traceback."""
