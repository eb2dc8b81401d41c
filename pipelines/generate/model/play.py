"""A trained model plays a chart: new pieces, continuations of a primer, and regenerated bars.

All three are one recipe: a prompt of words the model reads (the header, then any bars kept
before the new ones), rows that force the chart's chords into the bars to generate, the batched
sampling loop, and the words of the whole piece (kept bars before and after untouched, so a
regenerated take differs from its source only inside the chosen bars).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Sequence

from ...common.errors import StudioError
from .constrain import RowConstraint, Rules, bar_budget, check_rules
from .events import ChartPlan, chart_key, plan_chart
from .sampling import LoopStats, Sampling, TorchStepper, run_rows

if TYPE_CHECKING:
    from ...music.chords import Chart
    from ...music.piece import Piece
    from .loading import LoadedModel

MIN_BAR_TOKENS = 24        # below this a bar holds its chord and five notes at most: refuse instead
MAX_BAR_TOKENS = 384       # a bar of the densest training music is ~250 tokens
KEEP_CONTEXT_SHARE = 0.5   # a long primer is cut to at most this share of the context (newest bars kept)
PROGRESS_BEATS = 1.0       # Request.on_progress hears of the music at most once per beat (but the last bar)


@dataclass
class Request:
    """What to play: the chart's bars to generate and the piece around them."""

    chart: "Chart"
    style: str
    tempo_bpm: float
    time_signature: tuple[int, int]
    key: str | None = None
    seed: int = 1
    variations: int = 1
    sampling: Sampling = field(default_factory=Sampling)
    rules: Rules = field(default_factory=Rules)   # the pianist's rules (register, bass, voicing, harmony)
    backend: str = "torch"     # or onnxruntime (the exported scratch model, see .onnx_backend)
    # called as a variation reaches a new position a beat or more after the last one it reported:
    # (variation, the whole piece's words so far, the beat before which its notes are final)
    on_progress: Callable[[int, list[str], float], None] | None = None


@dataclass
class Played:
    """Every variation's words, the stats of the loop and what was changed to fit the vocabulary."""

    takes: list[list[str]]
    stats: LoopStats
    substitutions: list[str]
    bars_before: int = 0      # kept bars in front of the generated ones (primer or untouched bars)


def header_words(loaded: "LoadedModel", request: Request) -> list[str]:
    """STYLE_ TEMPO_ TIMESIG_ KEY_ SONG_START, each checked against the model's words."""
    from ...data.vocab import TEMPO_BUCKETS

    space = loaded.space
    style = f"STYLE_{request.style}"
    if not space.has(style):
        known = sorted(w[6:] for w in space.vocab.tokens if w.startswith("STYLE_") and space.has(w))
        raise StudioError(f"this model has no style {request.style!r} (it knows {', '.join(known)})")
    n, d = request.time_signature
    key = request.key or chart_key(request.chart)
    if not space.has(f"KEY_{key}"):
        raise StudioError(f"key must be a tonic and maj or min, such as Ebmaj or F#min (got {key!r})")
    if not space.has(f"TIMESIG_{n}/{d}"):
        raise StudioError(f"this model has no {n}/{d} meter token; pick another meter")
    tempo = min(TEMPO_BUCKETS, key=lambda b: abs(b - request.tempo_bpm))
    return [style, f"TEMPO_{tempo}", f"TIMESIG_{n}/{d}", f"KEY_{key}", "SONG_START"]


def _plan(loaded: "LoadedModel", request: Request) -> ChartPlan:
    plan = plan_chart(request.chart, loaded.space, request.time_signature)
    for bar in plan.bars:
        for tick, _ in bar.chords:
            loaded.space.id(f"POS_{tick}")
    return plan


def _fit_prompt(loaded: "LoadedModel", head: list[str], bars: list[list[str]], new_bars: int) -> list[str]:
    """The header and as many of the newest kept bars as leave room for ``new_bars`` bars."""
    room = min(int(loaded.context_tokens * KEEP_CONTEXT_SHARE),
               loaded.context_tokens - 1 - new_bars * MIN_BAR_TOKENS * 3) - len(head)
    kept: list[list[str]] = []
    for bar in reversed(bars):
        if sum(map(len, kept)) + len(bar) > room:
            break
        kept.insert(0, bar)
    return head + [w for bar in kept for w in bar]


def check_fits(loaded: "LoadedModel", request: Request) -> None:
    """Refuse a new piece whose chart cannot be played by this model (its context, its rules) before
    anything runs: it needs only the model's words and card."""
    head = header_words(loaded, request)
    _budget(loaded, request, len(head) + (loaded.bos_id is not None), _plan(loaded, request).bars)


def _budget(loaded: "LoadedModel", request: Request, prompt_tokens: int, plan_bars, bars_before: int = 0) -> int:
    """Tokens each bar may use; a sentence when the rules cannot play the chart or it does not fit."""
    check_rules(request.rules, plan_bars, bars_before + 1)
    budget = bar_budget(loaded.context_tokens, prompt_tokens, plan_bars, MAX_BAR_TOKENS, request.rules)
    if budget < MIN_BAR_TOKENS:
        fits = next((n for n in range(len(plan_bars), 0, -1)
                     if bar_budget(loaded.context_tokens, prompt_tokens, plan_bars[:n], MAX_BAR_TOKENS, request.rules)
                     >= MIN_BAR_TOKENS), 0)
        raise StudioError(f"{len(plan_bars)} bars do not fit in this model's context of {loaded.context_tokens} "
                          f"tokens (about {fits} fit); shorten the chart or the primer, or pick a model trained "
                          "on longer sequences")
    return budget


def _rows(loaded: "LoadedModel", request: Request, prompt: list[str], plan_bars, ends_song: bool,
          before: list[str], bars_before: int = 0, salt: int = 0) -> Played:
    """Rows that play ``plan_bars`` after ``prompt``; ``before``: the piece's words in front of them."""
    space = loaded.space
    ids = ([loaded.bos_id] if loaded.bos_id is not None else []) + [space.id(w) for w in prompt]
    budget = _budget(loaded, request, len(ids), plan_bars, bars_before)
    state = space.vocab.state_after(prompt)
    cache: dict = {}
    rows = [RowConstraint(space, state, plan_bars, ends_song, budget, cache=cache, rules=request.rules)
            for _ in range(request.variations)]
    seeds = [request.seed * 1000 + i + salt for i in range(request.variations)]
    loaded.activate()
    stepper = loaded.onnx.stepper() if request.backend == "onnxruntime" else TorchStepper(loaded.model)
    beats_per_bar = request.time_signature[0] * 4.0 / request.time_signature[1]
    reported = [-1.0] * len(rows)
    last_bar = (bars_before + len(plan_bars) - 1) * beats_per_bar

    def on_progress(index: int, row: RowConstraint) -> None:
        bar, tick = row.reached
        final = (bars_before + bar + tick / row.state.bar_ticks) * beats_per_bar
        # a beat at a time (each report costs a decode), every position in the last bar: what is
        # rendered by the last token is what the listener does not wait for
        if final >= reported[index] + PROGRESS_BEATS or final > max(last_bar, reported[index]):
            reported[index] = final
            request.on_progress(index, before + row.words(), final)

    stats = run_rows(stepper, ids, rows, request.sampling, seeds, loaded.pad_id,
                     on_progress if request.on_progress else None)
    return Played([row.words() for row in rows], stats, [])


def play(loaded: "LoadedModel", request: Request) -> Played:
    """New pieces: the header, then every bar of the chart generated."""
    plan = _plan(loaded, request)
    head = header_words(loaded, request)
    played = _rows(loaded, request, head, plan.bars, ends_song=True, before=head)
    played.takes = [head + words for words in played.takes]
    played.substitutions = plan.substitutions
    return played


def continue_piece(loaded: "LoadedModel", request: Request, primer: "Piece") -> Played:
    """The primer's bars (as the model's words), then the chart generated after them."""
    from ...data.vocab import Header

    head = header_words(loaded, request)
    key = head[3][len("KEY_"):]
    words = loaded.space.vocab.encode(primer, Header(style=request.style, tempo_bpm=request.tempo_bpm,
                                                     time_signature=request.time_signature, key=key))
    bars = split_bars(words)[:primer.bars]  # a pedal lifted at the very end opens no bar of its own
    unknown = sorted({w for bar in bars for w in bar if not loaded.space.has(w)})
    if unknown:
        raise StudioError(f"the primer uses words this model does not know ({', '.join(unknown[:5])})")
    plan = _plan(loaded, request)
    prompt = _fit_prompt(loaded, head, bars, len(plan.bars))
    primer_words = head + [w for bar in bars for w in bar]
    played = _rows(loaded, request, prompt, plan.bars, ends_song=True, before=primer_words, bars_before=len(bars))
    played.takes = [primer_words + new for new in played.takes]
    played.substitutions, played.bars_before = plan.substitutions, len(bars)
    return played


def regenerate(loaded: "LoadedModel", request: Request, source: Sequence[str], first_bar: int,
               last_bar: int) -> Played:
    """Bars ``first_bar``-``last_bar`` (1-based, inclusive) of ``source`` generated again, the others kept."""
    head_end = list(source).index("SONG_START") + 1
    head, bars = list(source[:head_end]), split_bars(source)
    if not 1 <= first_bar <= last_bar <= len(bars):
        raise StudioError(f"bars to regenerate must be within 1-{len(bars)}, first ≤ last "
                          f"(got {first_bar}-{last_bar})")
    if len(request.chart) != len(bars):
        raise StudioError(f"the chart has {len(request.chart)} bars but the take has {len(bars)}; "
                          "regenerate with the take's own chart")
    plan = _plan(loaded, request)
    prompt = _fit_prompt(loaded, head, bars[:first_bar - 1], last_bar - first_bar + 1)
    ends_song = last_bar == len(bars)
    before = head + [w for bar in bars[:first_bar - 1] for w in bar]
    played = _rows(loaded, request, prompt, plan.bars[first_bar - 1:last_bar], ends_song, before, first_bar - 1,
                   salt=7919 * first_bar + 104729 * last_bar)  # not the take's own draws again
    after = [w for bar in bars[last_bar:] for w in bar] + ([] if ends_song else ["SONG_END"])
    played.takes = [before + new + after for new in played.takes]
    played.substitutions, played.bars_before = plan.substitutions, first_bar - 1
    return played


def split_bars(words: Sequence[str]) -> list[list[str]]:
    """The bars of a sequence (each from its BAR_START), header and SONG_END left out."""
    bars: list[list[str]] = []
    for word in words:
        if word == "BAR_START":
            bars.append([])
        if bars and word != "SONG_END":
            bars[-1].append(word)
    return bars
