"""duban's exceptions.

Every error a user can cause (a bad config key, a missing document, a rule with an
unknown key, an undecodable file) is an :class:`InputError` whose message is one
sentence naming the culprit; the command line prints it and exits with status 2.
"""


class DubanError(Exception):
    """Base class of every error duban raises on purpose."""


class InputError(DubanError):
    """Bad input from the user: config, rules, documents, options. Exit status 2."""


class ConfigError(InputError):
    """config.toml is missing, malformed or inconsistent."""


class ReadError(InputError):
    """A document cannot be read or decoded."""


class RuleError(InputError):
    """A rule file is malformed; the message names the rule and the key."""


class TemplateError(InputError):
    """A message template is missing or broken; the message names it and the line."""


class DeliveryError(DubanError):
    """A message could not be handed to the mail server.

    ``permanent`` tells a rejection that retrying cannot fix (5xx) from a transient
    failure (connection refused, timeout, 4xx).
    """

    def __init__(self, message: str, *, permanent: bool) -> None:
        super().__init__(message)
        self.permanent = permanent
