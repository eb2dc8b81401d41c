"""What every tokenizer shares: its config (``configs/tokenizers/*.yaml``), the header words that
open a MidiTok sequence, and the MIDI-file edges built on ``encode``, ``ids`` and ``decode``.

``tokenizers.py`` (the studio tokens, the registry, save and load) and ``miditok_backend.py`` (REMI
and TSD) both build on it.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Sequence

from ..common.config import load_config
from ..common.errors import StudioError
from ..common.paths import configs_dir
from .vocab import Header, check_style, label_token


@dataclass
class TokenizerConfig:
    """A tokenizer preset (configs/tokenizers/*.yaml)."""

    kind: Literal["studio", "remi", "tsd"] = "studio"
    max_seq_len: int = 1024            # tokens per training sequence, header included
    # studio tokens
    chord_span_beats: float = 2.0      # chords are recognised on spans this long inside each bar
    chord_source: Literal["auto", "text", "recognise", "none"] = "auto"  # auto: chart text, else recognise
    # MidiTok (remi, tsd)
    beat_res: int = 8                  # positions per quarter note in the first 4 beats of a duration
    num_velocities: int = 32
    use_chords: bool = True
    use_tempos: bool = True
    use_time_signatures: bool = True
    use_rests: bool = True
    use_sustain_pedals: bool = True
    use_programs: bool = False         # keep instruments (one stream with Program tokens)
    bpe_vocab_size: int = 0            # > 0: train MidiTok BPE on the train split to this size

    def __post_init__(self) -> None:
        if not 32 <= self.max_seq_len <= 65536:
            raise StudioError(f"max_seq_len must be 32-65536 (got {self.max_seq_len})")
        if not 0.25 <= self.chord_span_beats <= 8:
            raise StudioError(f"chord_span_beats must be 0.25-8 (got {self.chord_span_beats})")
        if self.beat_res not in (4, 8, 12, 16, 24):
            raise StudioError(f"beat_res must be one of 4, 8, 12, 16, 24 (got {self.beat_res})")
        if not 4 <= self.num_velocities <= 127:
            raise StudioError(f"num_velocities must be 4-127 (got {self.num_velocities})")
        if self.bpe_vocab_size and self.kind == "studio":
            raise StudioError("bpe_vocab_size is for the MidiTok tokenizers (remi, tsd); the studio "
                              "tokens are whole words already")


def tokenizer_preset(name_or_path: str | Path | None, overrides: dict | None = None) -> TokenizerConfig:
    """A TokenizerConfig from ``configs/tokenizers/<name>.yaml`` or a YAML path, plus overrides."""
    if name_or_path is None:
        return load_config(TokenizerConfig, None, overrides)
    path = Path(name_or_path)
    if not path.suffix:
        path = configs_dir() / "tokenizers" / f"{name_or_path}.yaml"
    if not path.is_file():
        known = tokenizer_presets()
        raise StudioError(f"tokenizer preset {name_or_path} not found (presets: {', '.join(known)})")
    return load_config(TokenizerConfig, path, overrides)


def tokenizer_presets() -> list[str]:
    """The names of the tokenizer presets (``configs/tokenizers/*.yaml``)."""
    return sorted(p.stem for p in (configs_dir() / "tokenizers").glob("*.yaml"))


def header_words(style: str, labels: Sequence[str]) -> list[str]:
    """The special tokens that open a MidiTok sequence: STYLE_<style> and one per free label."""
    return [f"STYLE_{check_style(style)}", *(label_token(lab) for lab in labels)]


class MidiFiles:
    """MIDI-file edges shared by every tokenizer (built on its ``encode``, ``ids`` and ``decode``)."""

    def encode_midi(self, midi: str | Path | bytes, header: Header | None = None) -> tuple[list[str], list[int]]:
        """(token strings, ids) of a MIDI file (path or bytes), tracks merged, drums dropped."""
        from ..music.midi_reader import read_piece

        data = midi if isinstance(midi, bytes) else Path(midi).read_bytes()
        piece, _ = read_piece(data, "midi" if isinstance(midi, bytes) else Path(midi).name)
        tokens = self.encode(piece, header or Header())
        return tokens, self.ids(tokens)

    def decode_to_midi(self, tokens: Sequence[str | int], path: str | Path) -> Path:
        """Decode and write a MIDI file (the chart as ``chord:`` text events)."""
        return self.decode(tokens).write_midi(path)
