"""Audio rendered while the model is still playing: each finished stretch is synthesised at once.

The decoding loop reports the positions a variation reaches, at most one a beat
(``Request.on_progress``); a worker thread decodes the words written so far (a millisecond or two), and
that variation's
:class:`~pipelines.music.render.StreamingRender` synthesises everything before the position, which
no later token can change. When the worker falls behind it skips to the newest report. FluidSynth
and onnxruntime both leave Python's lock while they work, so on a machine with two cores the audio
is mostly done when the last token is; ``render_wav(..., stream=...)`` then renders only the last
notes and the tail. The samples equal a one-shot render of the finished take (the stream checks
that the events it rendered are still the take's, and starts over if not).
"""
from __future__ import annotations

import logging
import queue
import threading
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from ...music.piece import Piece

log = logging.getLogger(__name__)


class LiveRender:
    """One StreamingRender per variation, fed by a worker thread; ``close()`` before reading them.

    Args:
        variations: how many rows are played.
        to_piece: the words written so far -> the Piece they decode to (tempo and meter set).
    """

    def __init__(self, variations: int, to_piece: Callable[[list[str]], "Piece"]) -> None:
        from ...music.render import StreamingRender

        self.streams: list[StreamingRender] = [StreamingRender() for _ in range(variations)]
        self.to_piece = to_piece
        self._queue: queue.Queue = queue.Queue()
        self._worker = threading.Thread(target=self._work, name="live-render", daemon=True)
        self._worker.start()

    def progress(self, variation: int, words: list[str], final_beats: float) -> None:
        """The model reached a new position: ``words`` is the whole piece so far, final before ``final_beats``."""
        self._queue.put((variation, words, final_beats))

    def close(self) -> None:
        """Wait until every reported stretch is rendered."""
        self._queue.put(None)
        self._worker.join()

    def _work(self) -> None:
        while True:
            items = [self._queue.get()]
            while not self._queue.empty():   # behind: only the newest report of each variation matters
                items.append(self._queue.get())
            newest = {item[0]: item for item in items if item is not None}
            for variation, words, final_beats in newest.values():
                self._advance(variation, words, final_beats)
            if None in items:
                return

    def _advance(self, variation: int, words: list[str], final_beats: float) -> None:
        stream = self.streams[variation]
        try:
            piece = self.to_piece(words)
            stream.advance(piece.to_pretty_midi(), piece.seconds(final_beats))
        except Exception:  # the final render starts over; the take itself is unaffected
            log.exception("rendering ahead failed; the take is rendered in one go instead")
            stream.diverged = True
