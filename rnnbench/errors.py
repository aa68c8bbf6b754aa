"""The one exception type the CLI catches and turns into a one-line message and a non-zero exit."""


class RnnbenchError(Exception):
    """A problem the user can fix: bad input, a missing file, a corrupted run. Never a bug."""

    exit_code = 1


class ConfigError(RnnbenchError):
    """An experiment file that does not validate. Carries every problem found, one line each."""

    exit_code = 2

    def __init__(self, source: str, problems: list[str]):
        self.source = source
        self.problems = problems
        super().__init__("\n".join(f"{source}: {p}" for p in problems))


class UsageError(RnnbenchError):
    """A command-line option with a value the command cannot use (exit status 2, like other usage errors)."""

    exit_code = 2
