"""Bad input is reported as one line on stderr with exit status 2."""


class InputError(Exception):
    """User input (CLI flag, task file) is invalid. The message is one line for stderr."""
