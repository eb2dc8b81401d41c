"""The one exception type for bad input, so the UI and the CLI can tell it from a bug."""


class StudioError(ValueError):
    """Bad input or an impossible request, with a sentence a user can act on.

    Library code raises it with what was received and what is allowed
    (``"bars must be 1-64 (got 500)"``). ``studio/`` turns it into ``gr.Error``;
    the CLI prints it on stderr and exits non-zero. Anything else is a bug.
    """
