"""A plug-in transcriber run out of process (YourMT3-style): its own command and checkpoint.

The command is an argv list with placeholders: ``{input}`` (a WAV the studio writes), ``{output}``
(the MIDI the transcriber must write), ``{checkpoint}``. It runs without a shell, under a timeout;
a non-zero exit, a missing or unreadable MIDI, or a MIDI with zero notes is a failure.
"""
from __future__ import annotations

import logging
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from ..common.errors import StudioError
from .audio import write_wav
from .notes import Notes, notes_of_instruments

log = logging.getLogger(__name__)
PLACEHOLDERS = ("{input}", "{output}", "{checkpoint}")


def build_argv(command: list[str], input_wav: Path, output_mid: Path,
               checkpoint: str | None) -> list[str]:
    """Fill the placeholders; refuse a command without {input}/{output} or a missing checkpoint."""
    if not command:
        raise StudioError("the external transcriber needs external_command, an argv list such as "
                          "['python', 'yourmt3_run.py', '{input}', '{output}', '{checkpoint}']")
    joined = " ".join(command)
    for needed in ("{input}", "{output}"):
        if needed not in joined:
            raise StudioError(f"external_command must contain {needed} (got {command})")
    if "{checkpoint}" in joined:
        if not checkpoint:
            raise StudioError("external_command uses {checkpoint} but external_checkpoint is not set")
        if not Path(checkpoint).exists():
            raise StudioError(f"the external transcriber's checkpoint {checkpoint} does not exist")
    values = {"{input}": str(input_wav), "{output}": str(output_mid), "{checkpoint}": checkpoint or ""}
    argv = []
    for arg in command:
        for key, value in values.items():
            arg = arg.replace(key, value)
        argv.append(arg)
    return argv


def transcribe(mono: np.ndarray, sample_rate_hz: int, command: list[str] | None,
               checkpoint: str | None = None, timeout_s: float = 600.0,
               work_dir: str | Path | None = None) -> Notes:
    """Write ``mono`` to a WAV, run the command, read the MIDI it wrote (drum tracks ignored)."""
    import pretty_midi

    with tempfile.TemporaryDirectory(prefix="external-", dir=work_dir) as tmp:
        input_wav = write_wav(Path(tmp) / "input.wav", mono, sample_rate_hz)
        output_mid = Path(tmp) / "output.mid"
        argv = build_argv(list(command or []), input_wav, output_mid, checkpoint)
        name = Path(argv[0]).name
        log.info("running external transcriber: %s", " ".join(argv))
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout_s,
                                  check=False, stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            raise StudioError(f"the external transcriber {name} did not finish within "
                              f"{timeout_s:.0f} s (external_timeout_s)") from None
        except OSError as exc:
            raise StudioError(f"the external transcriber {name} could not start ({exc})") from None
        if done.returncode != 0:
            tail = (done.stderr or done.stdout or "").strip().splitlines()[-3:]
            raise StudioError(f"the external transcriber {name} failed with exit code "
                              f"{done.returncode}: {' | '.join(tail)[:300]}")
        if not output_mid.is_file():
            raise StudioError(f"the external transcriber {name} exited without writing {output_mid.name}")
        try:
            pm = pretty_midi.PrettyMIDI(str(output_mid))
        except Exception as exc:
            raise StudioError(f"the external transcriber {name} wrote an unreadable MIDI ({exc})") from None
    notes = notes_of_instruments(i for i in pm.instruments if not i.is_drum)
    if not len(notes):
        raise StudioError(f"the external transcriber {name} wrote a MIDI with zero notes; "
                          "that counts as a failure (check its checkpoint and input)")
    return notes
