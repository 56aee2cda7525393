"""Errors and warnings about configuration files.

Both name the file, the field and the reason, so that the command line can print them as one
line (see CLI.md) and an operator can go straight to the offending line.
"""

from dataclasses import dataclass


class ConfigError(Exception):
    """A configuration that ixrs refuses to run with."""

    def __init__(self, file: str, field: str, reason: str) -> None:
        self.file = file
        self.field = field
        # Reasons may quote YAML parser messages, which span lines; stderr gets one line.
        self.reason = " ".join(reason.split())
        super().__init__(f"{file}: {field}: {self.reason}")

    def __str__(self) -> str:
        return f"{self.file}: {self.field}: {self.reason}"

    def __reduce__(self) -> tuple[type["ConfigError"], tuple[str, str, str]]:
        # Workers may hand errors across processes; the default pickling loses the three parts.
        return (ConfigError, (self.file, self.field, self.reason))


@dataclass(frozen=True)
class ConfigWarning:
    """A valid option that ixrs does not act upon (yet)."""

    file: str
    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}: {self.field}: {self.reason}"
