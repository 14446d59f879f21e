"""Errors that `snout` reports to the user as one line instead of a traceback."""


class UserError(Exception):
    """A problem with what the user asked for (bad path, bad flag, bad data): exit code 2."""
