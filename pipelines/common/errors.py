"""The one exception type for bad input, so the UI and the CLI can tell it from a bug."""


class StudioError(ValueError):
    """Bad input or an impossible request, with a sentence a user can act on.

    Library code raises it with what was received and what is allowed
    (``"bars must be 1-64 (got 500)"``). ``studio/`` turns it into ``gr.Error``;
    the CLI prints it on stderr and exits non-zero. Anything else is a bug.

    ``local_detail`` is what only the person at the server should see (the workspace folder, the
    names of every run or dataset): the CLI prints it after the sentence, the studio never sends it
    to a browser.
    """

    def __init__(self, message: str = "", *, local_detail: str | None = None) -> None:
        super().__init__(message)
        self.local_detail = local_detail


# What an exception with no text of its own means when it comes from reading an untrusted file.
_SILENT_MEANINGS = {
    "EOFError": "the data ends before it should",
    "IndexError": "the data ends before it should",
    "error": "a chunk is shorter than its header says",          # struct.error
    "KeyError": "it uses an event or field the reader does not know",
    "UnicodeDecodeError": "a text event is not valid text",
    "OverflowError": "a value is too large",
    "ZeroDivisionError": "a header holds a zero where a rate or resolution belongs",
    "MemoryError": "it claims more data than can be read",
}
REASON_CHARS = 160


def reason(exc: BaseException, limit: int = REASON_CHARS) -> str:
    """The readable reason inside ``exc`` for a message: its own sentence, or what its type means
    when it has none; one line, server paths cut to their last part, and cut at a word, never mid-word."""
    import re

    if isinstance(exc, StudioError):
        text = str(exc)
    else:
        text = str(exc).strip().strip("'\"")
        if not text or text == "None":
            return _SILENT_MEANINGS.get(type(exc).__name__, f"a {type(exc).__name__} with no message")
    text = re.sub(r"(?<![\w.:/\\])/(?:[^\s'\"`<>|()\[\]{},;:/]+/)+([^\s'\"`<>|()\[\]{},;:/]*)",
                  lambda m: m.group(1), " ".join(text.split()))
    if len(text) > limit:
        cut = text[:limit].rsplit(" ", 1)[0].rstrip(",;:")
        text = f"{cut} …"
    return text.rstrip(".")
