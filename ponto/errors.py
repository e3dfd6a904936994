"""The few error classes of Ponto; each says how the pipeline treats it."""


class PontoError(Exception):
    """Base of every error raised on purpose by Ponto."""


class ConfigError(PontoError):
    """The environment does not describe a usable configuration (raised at cold start)."""


class InvalidPunchError(PontoError):
    """A queued record that can never be recorded: bad JSON or a schema violation.

    The worker reports it as a batch item failure, so it reaches the dead-letter queue.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class StoreError(PontoError):
    """The database could not record a batch; the batch's records are retried later."""


class RowRejectedError(StoreError):
    """The database refused a row's data (a constraint or a value out of range), not its own state."""


class InvalidInputError(PontoError):
    """An operator's input that cannot be taken (a CPF with wrong check digits, an unknown
    establishment, a duplicate id): nothing was written. The CLI prints it on one line, exit code 2.

    Its message names ids only, never personal data (a CPF, a name).
    """
