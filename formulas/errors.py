"""One error hierarchy for the whole core.

Every error carries the Excel error code it stands for (``#VALUE!``, ``#NUM!``,
``#N/A``) and the name of the argument at fault, so the Excel layer can turn it
into one short cell message without parsing text.
"""

from __future__ import annotations

__all__ = [
    "FormulasError",
    "InvalidInputError",
    "ImplausibleUnitError",
    "UnknownNameError",
    "InfeasibleError",
    "CatalogError",
]


class FormulasError(Exception):
    """Base class of every error the core raises on purpose.

    Parameters
    ----------
    message : str
        What is wrong and how to fix it; the first clause is kept short because
        a classic Excel cell shows the whole text.
    arg : str, optional
        Name of the argument at fault, as the Excel function spells it.
    value : object, optional
        The offending value, kept for callers that want it.
    """

    code = "#VALUE!"

    def __init__(self, message: str, *, arg: str | None = None, value: object = None):
        super().__init__(message)
        self.message = message
        self.arg = arg
        self.value = value

    def __str__(self) -> str:
        return self.message

    def excel_text(self) -> str:
        """The one-line cell text: the Excel error code, then the message."""
        return f"{self.code} {self.message}"


class InvalidInputError(ValueError, FormulasError):
    """An input of the wrong type or outside its valid range (``#VALUE!`` or ``#NUM!``)."""

    def __init__(self, message: str, *, arg: str | None = None, value: object = None,
                 code: str = "#VALUE!"):
        FormulasError.__init__(self, message, arg=arg, value=value)
        self.code = code


class ImplausibleUnitError(InvalidInputError):
    """A value whose magnitude says it was given in the wrong unit (7 meaning 7B)."""

    def __init__(self, message: str, *, arg: str | None = None, value: object = None):
        super().__init__(message, arg=arg, value=value, code="#NUM!")


class UnknownNameError(KeyError, FormulasError):
    """A catalog id, precision or mode name that is not known (``#N/A``)."""

    code = "#N/A"

    def __init__(self, message: str, *, arg: str | None = None, value: object = None):
        FormulasError.__init__(self, message, arg=arg, value=value)

    def __str__(self) -> str:  # KeyError would quote the message otherwise
        return self.message


class InfeasibleError(ValueError, FormulasError):
    """A request that no answer satisfies, or a result that overflows (``#NUM!``)."""

    code = "#NUM!"

    def __init__(self, message: str, *, arg: str | None = None, value: object = None):
        FormulasError.__init__(self, message, arg=arg, value=value)


class CatalogError(FormulasError):
    """A catalog data file that breaks its schema (a packaging bug, not user input)."""

    code = "#N/A"
