"""Audio rendered while the model is still playing: each finished bar is synthesised at once.

The decoding loop reports every bar a variation begins (``Request.on_bar``); a worker thread decodes
the words written so far, and that variation's :class:`~pipelines.music.render.StreamingRender`
synthesises everything before the new bar, which no later token can change. FluidSynth and
onnxruntime both leave Python's lock while they work, so on a machine with two cores the audio is
mostly done when the last token is; ``render_wav(..., stream=...)`` then renders only the last bar
and the tail. The samples equal a one-shot render of the finished take (the stream checks that
the events it rendered are still the take's, and starts over if not).
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

    def bar_begun(self, variation: int, words: list[str], bars_final: int) -> None:
        """The model began a bar: ``words`` is the whole piece so far, its first ``bars_final`` bars final."""
        self._queue.put((variation, words, bars_final))

    def close(self) -> None:
        """Wait until every reported bar is rendered."""
        self._queue.put(None)
        self._worker.join()

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            variation, words, bars_final = item
            stream = self.streams[variation]
            try:
                piece = self.to_piece(words)
                stream.advance(piece.to_pretty_midi(), piece.seconds(bars_final * piece.beats_per_bar))
            except Exception:  # the final render starts over; the take itself is unaffected
                log.exception("rendering ahead failed; the take is rendered in one go instead")
                stream.diverged = True
