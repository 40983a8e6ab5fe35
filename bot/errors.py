"""The one error base class of Hypercare and its few specialisations."""
from __future__ import annotations


class HypercareError(Exception):
    """Base class for every error Hypercare raises on purpose."""


class ConfigError(HypercareError):
    """A setting is missing or malformed; the message tells the user how to fix it."""


class UserInputError(HypercareError):
    """Something a Slack user typed or clicked cannot be acted on.

    The message is shown to that user (ephemerally), so it must be polite and say what to do.
    """

    def __init__(self, message: str, *, usage: str | None = None) -> None:
        super().__init__(message)
        self.usage = usage


class NotFound(UserInputError):
    """A ticket, user or channel the user named does not exist."""


class PermissionDenied(UserInputError):
    """The user may not do this; the message says who can."""
