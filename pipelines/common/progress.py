"""The one progress type of every pipeline: a plain ``progress(fraction, message)`` callable.

``fraction`` runs from 0 to 1 and ``message`` says what is being done, both positional, so a script's
``lambda f, m: print(f, m)`` and Gradio's ``gr.Progress()`` (whose second parameter is ``desc``) both
take it. Pipelines call it this way only, never with Gradio's keywords.
"""
from __future__ import annotations

from typing import Callable

Progress = Callable[[float, str], None]
