"""The exception types of ``derivations``: every invalid user value raises one of these.

They all derive from :class:`InputError` (a ``ValueError``), so a caller can catch one type;
each message is one line and starts with the field it is about, e.g.
``covariance: not positive definite (leading principal minor 2 is -3)``.
"""


class InputError(ValueError):
    """A value given to onestep is invalid. The message names the field."""


class ExactInputError(InputError):
    """A value that must be exact (an integer, a rational, a symbol) is not: a float, text that
    is not a whitelisted exact expression, an object of the wrong kind."""


class TaskError(InputError):
    """An invalid task description. The message names the field."""


class ParseError(TaskError, ExactInputError):
    """Malformed text for the whitelist parser; the message names the field and the position."""


class TooLargeError(TaskError):
    """Work refused before it starts because it would exceed this machine's limits.

    The message says what the estimate is and what the limit is."""
