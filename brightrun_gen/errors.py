"""The few errors Bright Run raises on purpose. Their messages are written for the user.

The CLI prints them as one line on stderr, the pages show them with st.error, the runner
stores them in the queue item's error column. Nothing above `llm/` sees an SDK exception.
"""


class BrightRunError(Exception):
    """Base class: the message is a complete sentence a person can act on."""


class InputError(BrightRunError):
    """Bad input from a file, the command line or a form: names what and where."""


class SeedFileError(InputError):
    """A seed or import file that cannot be read; the message starts with the file name."""

    def __init__(self, path: str, where: str, reason: str):
        self.path, self.where, self.reason = path, where, reason
        super().__init__(f"{path}: {where}: {reason}" if where else f"{path}: {reason}")


class NotFound(InputError):
    """An id or key that the store does not hold."""


class TemplateError(BrightRunError):
    """A prompt template that cannot be rendered with the parameters given."""


class ProviderError(BrightRunError):
    """The model could not be reached or answered with an error after the SDK's retries.

    `rate_limits` is what the last answer's rate-limit headers said (kind -> domain.ratelimits.Reading),
    `refused` how many of the call's tries were refused with 429 or 529: the runner paces by them.
    """

    def __init__(self, message: str, *, retryable: bool = False, retry_after: float | None = None,
                 rate_limits: dict | None = None, refused: int = 0):
        self.retryable, self.retry_after = retryable, retry_after
        self.rate_limits, self.refused = rate_limits or {}, refused
        super().__init__(message)


class RateLimited(ProviderError):
    """429 or 529 after the SDK's own retries: the runner slows down as a whole."""

    def __init__(self, message: str, retry_after: float | None = None, *, rate_limits: dict | None = None,
                 refused: int = 1):
        super().__init__(message, retryable=True, retry_after=retry_after, rate_limits=rate_limits, refused=refused)


class InvalidAnswer(BrightRunError):
    """The model answered, but not with a usable conversation (prose, truncated, wrong shape)."""

    def __init__(self, message: str, *, stop_reason: str | None = None):
        self.stop_reason = stop_reason
        super().__init__(message)


class LeaseLost(BrightRunError):
    """A worker tried to finish a queue item that another worker has taken over."""
