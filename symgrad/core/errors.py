"""The one exception type for everything a user of symgrad can get wrong."""


class SymgradError(ValueError):
    """Bad input: the message says what to change."""
