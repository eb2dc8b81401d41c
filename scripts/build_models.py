"""Rebuild the shipped default model and its two style adapters from nothing, in one command.

    python scripts/build_models.py [--quick] [--out DIR] [--reuse] [--install]
    python scripts/build_models.py --card-figures BENCH.json [--models-dir checkpoints]

1. data: music21's public-domain corpus rendered for piano (``pipelines/data/public_corpus.py``;
   chords named by the studio's recogniser) plus the wide rule-engine corpus of both styles
   (``pipelines/generate/corpus.py``, variety ``wide``) -> dataset ``build-general``; other charts
   of both styles in the engines' plain idiom (variety ``plain``: straight eighths, plain left
   hands, no ostinato) -> ``build-finish``; the wide corpus of one style (full idiom, another
   seed) -> ``build-gospel`` and ``build-mehldau`` (``build-quick-*`` with --quick); tokenized
   with the studio tokenizer, train copies transposed.
2. stage 1 "general": ``python -m pipelines.train run ship_general`` (a scratch Llama, ~0.8 M),
   then a finishing pass of every weight on ``build-finish`` (``ship_finish``). The music21 pieces'
   recognised chords blur which notes are chord tones; the finishing pass on rule-engine material
   sharpens them, and because it is the plain idiom, the default model plays a plain accompanist
   in each style and leaves the style's full idiom to its adapter.
3. stage 2: ``python -m pipelines.train run ship_style`` on each style's dataset, a LoRA on stage 1.
4. each model is shipped (``pipelines.generate.model.ship``: files, corpus profile, card) into
   ``DIR/models/{default,gospel,mehldau}`` (the novelty index of each holds every corpus it learned
   from, its base's included; default DIR: <workspace>/build-models[-quick]);
   ``--install`` then copies them over ``checkpoints/`` (do it only when bench/bench_model_quality.py
   measures them better than the shipped ones). ``DIR/build.json`` records every step's seconds;
   ``--reuse`` keeps the datasets and training runs whose recipe, settings and preset file are
   unchanged (a run is redone when the one it starts from was), so a changed later stage does not
   retrain stage 1. None of the held-out charts of bench/bench_model_quality.py is in any of them
   (the bench checks; pass it ``--rule-corpus`` with the build's ``rule_corpora``).

``--card-figures`` writes the figures of a ``bench/bench_model_quality.py --json-out`` report into
the cards (README.md and studio_checkpoint.json) of the default model and adapters it measured.

On the 2-core development CPU (load 1-2) the shipped build took 33 min: data 1.5 min with the
music21 renders cached (rendering them takes about 2 min more), stage 1 20 min (2,000 steps, ~0.6 s
each), the finishing pass 5 min (600 steps), the two LoRAs 4 and 3 min (300 steps).
``--quick`` proves the recipe end to end with a handful of pieces and steps. Training uses CUDA when
present.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
log = logging.getLogger("build_models")
STYLES = ("gospel", "mehldau")
# What each build trains on and for how long: music21 pieces a collection (None = all), their bars
# and the least share of their notes the recognised chords must explain (chord_fit); rule-engine
# performances a style for stage 1 and for each adapter; train copies transposed
# -k..+k semitones; optimizer steps.
RECIPES = {
    "full": {"public_limit": None, "public_max_bars": 64, "public_min_fit": 0.93, "general_rules": 240,
             "style_rules": 160, "finish_rules": 400, "transpose_general": 2, "transpose_style": 3,
             "transpose_finish": 2, "general_steps": 2000, "finish_steps": 600, "style_steps": 300},
    "quick": {"public_limit": 3, "public_max_bars": 16, "public_min_fit": 0.8, "general_rules": 8,
              "style_rules": 8, "finish_rules": 8, "transpose_general": 0, "transpose_style": 0,
              "transpose_finish": 0, "general_steps": 30, "finish_steps": 10, "style_steps": 10},
}
GENERAL_SEED, STYLE_SEED, FINISH_SEED = 1, 2, 3
CARD = "studio_checkpoint.json"


def rule_corpora(recipe: dict) -> list[str]:
    """Every rule-engine corpus a build trains on, as the bench's --rule-corpus takes them."""
    return ([f"{s}:{recipe['general_rules']}:{GENERAL_SEED}:wide" for s in STYLES]
            + [f"{s}:{recipe['finish_rules']}:{FINISH_SEED}:plain" for s in STYLES]
            + [f"{s}:{recipe['style_rules']}:{STYLE_SEED}:wide" for s in STYLES])


def dataset_name(recipe_name: str, part: str) -> str:
    """The workspace dataset of one part (general, finish, gospel, mehldau) of a build."""
    return f"build-{'quick-' if recipe_name == 'quick' else ''}{part}"


def _fresh_dataset(name: str) -> None:
    from pipelines.data.dataset import dataset_dir

    if dataset_dir(name).exists():
        shutil.rmtree(dataset_dir(name))


def _ingest_rules(dataset: str, style: str, n: int, seed: int, variety: str = "wide") -> None:
    from pipelines.data.ingest import IngestConfig, ingest
    from pipelines.generate.corpus import write_corpus

    with tempfile.TemporaryDirectory(prefix="build-rules-") as tmp:
        write_corpus(style, n, tmp, seed=seed, variety=variety)
        config = IngestConfig(dataset=dataset, style=style, labels=["source:rules"])
        ingest(sorted(Path(tmp).glob("*.mid")), config)


def _tokenize(dataset: str, transpose: int) -> dict:
    from pipelines.data.augment import AugmentConfig
    from pipelines.data.build import SplitConfig, tokenize_dataset
    from pipelines.data.tokenizers import tokenizer_preset

    cfg = tokenizer_preset("studio", {"max_seq_len": 768})
    split = SplitConfig(valid_share=0.05, test_share=0.0, seed=0)
    report = tokenize_dataset(dataset, cfg, AugmentConfig(transpose=transpose), split)
    return {k: v for k, v in report.items() if isinstance(v, (int, float, str))}


def chord_fit(files: list[Path]) -> dict[str, float]:
    """Each MIDI file's tension-aware chord-tone ratio against the chords the studio's recogniser names
    in it, read back from the tokens a model trains on: how well the chords explain the notes. Bach's
    passing tones and suspensions, and spans where the recogniser names a chord a beat early or late,
    bring it down; a model trained on such pieces learns that a tenth of its notes may miss the chart."""
    from pipelines.data.tokenizer_base import tokenizer_preset
    from pipelines.data.tokenizers import build_tokenizer
    from pipelines.music.metrics import chord_tone_ratio

    tokenizer = build_tokenizer(tokenizer_preset("studio", {"max_seq_len": 768}), styles=["classical"])
    fits = {}
    for file in files:
        piece = tokenizer.decode(tokenizer.encode_midi(file)[0])
        fits[file.name] = round(chord_tone_ratio(piece, tension_aware=True) or 0.0, 4)
    return fits


def engines_fingerprint() -> str:
    """A hash of the rule engines' source: every dataset holds their performances, so a dataset made
    by other engines is not kept by ``--reuse``."""
    digest = hashlib.sha256()
    for path in sorted((REPO / "pipelines" / "generate" / "rules").glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


def build_data(recipe_name: str, recipe: dict, out: Path, reuse: bool = False) -> dict:
    """Step 1: the four datasets, tokenized (each kept from an earlier build with ``reuse`` when the
    recipe that made it is the same)."""
    from pipelines.data.dataset import dataset_dir
    from pipelines.data.ingest import IngestConfig, ingest
    from pipelines.data.public_corpus import write_public_corpus

    done = out / "data.json"
    made = json.loads(done.read_text(encoding="utf-8")) if reuse and done.is_file() else {}
    recipes = made.setdefault("recipes", {})

    engines = engines_fingerprint()

    def kept(name: str, keys: tuple[str, ...]) -> bool:
        same = recipes.get(name) == {**{k: recipe[k] for k in keys}, "engines": engines}
        return reuse and same and (dataset_dir(name) / "tokens" / "train.jsonl").is_file()

    def record(name: str, keys: tuple[str, ...], report: dict) -> None:
        made[name], recipes[name] = report, {**{k: recipe[k] for k in keys}, "engines": engines}
        done.write_text(json.dumps(made, indent=2) + "\n", encoding="utf-8")

    general = dataset_name(recipe_name, "general")
    keys = ("public_limit", "public_max_bars", "public_min_fit", "general_rules", "transpose_general")
    if not kept(general, keys):
        public = write_public_corpus(out / "public_midi", max_bars=recipe["public_max_bars"],
                                     limit=recipe["public_limit"], workers=2)
        files = sorted((out / "public_midi").glob("*.mid"))
        fits = chord_fit(files)
        fitting = [f for f in files if fits[f.name] >= recipe["public_min_fit"]]
        public.update(rendered=public["pieces"], pieces=len(fitting), min_fit=recipe["public_min_fit"],
                      left_out_by_fit=len(files) - len(fitting),
                      by_collection={c: sum(f.name.startswith(f"{c}_") for f in fitting)
                                     for c in public["by_collection"]})
        log.info("music21 pieces: %s", public)
        made["public"] = public
        _fresh_dataset(general)
        ingest(fitting, IngestConfig(dataset=general, style="classical"))
        for style in STYLES:
            _ingest_rules(general, style, recipe["general_rules"], GENERAL_SEED)
        record(general, keys, _tokenize(general, recipe["transpose_general"]))
    finish = dataset_name(recipe_name, "finish")
    keys = ("finish_rules", "transpose_finish")
    if not kept(finish, keys):
        _fresh_dataset(finish)
        for style in STYLES:
            _ingest_rules(finish, style, recipe["finish_rules"], FINISH_SEED, variety="plain")
        record(finish, keys, _tokenize(finish, recipe["transpose_finish"]))
    for style in STYLES:
        name = dataset_name(recipe_name, style)
        keys = ("style_rules", "transpose_style")
        if not kept(name, keys):
            _fresh_dataset(name)
            _ingest_rules(name, style, recipe["style_rules"], STYLE_SEED)
            record(name, keys, _tokenize(name, recipe["transpose_style"]))
    return made


def train(preset: str, run_dir: Path, settings: dict, reuse: bool = False,
          data: dict | None = None) -> tuple[Path, bool, float]:
    """One training run through the CLI a user would type; returns its best checkpoint, whether it
    trained (with ``reuse``, an earlier run of the same preset, settings and ``data`` (the recipe
    record of its dataset) is kept) and the seconds the run took (as recorded when it was kept)."""
    best = run_dir / "checkpoints" / "best"
    done = run_dir / "build-done"
    preset_text = (REPO / "configs" / "train" / f"{preset}.yaml").read_text(encoding="utf-8")
    preset_sha = hashlib.sha256(preset_text.encode()).hexdigest()[:16]
    if reuse and best.is_dir() and done.is_file():
        recorded = json.loads(done.read_text(encoding="utf-8"))
        if (recorded.get("settings", recorded) == settings and recorded.get("preset", preset) == preset
                and recorded.get("preset_sha", preset_sha) == preset_sha and recorded.get("data") == data):
            return best, False, float(recorded.get("seconds", 0.0))
    if run_dir.exists():
        shutil.rmtree(run_dir)
    command = [sys.executable, "-m", "pipelines.train", "run", preset, "--run-dir", str(run_dir),
               "--set", *[f"{k}={v}" for k, v in settings.items()]]
    log.info("%s", " ".join(command))
    t0 = time.perf_counter()
    subprocess.run(command, cwd=REPO, check=True)
    seconds = round(time.perf_counter() - t0, 1)
    if not best.is_dir():
        raise SystemExit(f"training wrote no best checkpoint in {run_dir}")
    done.write_text(json.dumps({"preset": preset, "preset_sha": preset_sha, "settings": settings,
                                "data": data, "seconds": seconds}) + "\n", encoding="utf-8")
    return best, True, seconds


def ship(source: Path, name: str, dataset: str, notes: str, models: Path, record: dict,
         base_name: str = "", also_from: tuple[str, ...] = ()) -> dict:
    """``pipelines.generate ship`` into the build's models folder instead of checkpoints/, with
    the build's record on the card."""
    from pipelines.generate.model import ship as shipping

    original = shipping.checkpoints_dir
    shipping.checkpoints_dir = lambda: models  # ship_checkpoint writes to checkpoints_dir()/<name>
    try:
        shipped = shipping.ship_checkpoint(str(source), name, dataset, notes, base_name, also_from)
    finally:
        shipping.checkpoints_dir = original
    card = json.loads((models / name / CARD).read_text(encoding="utf-8"))
    card["built_by"] = record
    if not base_name and card.get("base_model"):  # the finishing pass started from stage 1's run
        card["base_model"] = ""  # no path of the training machine in a shipped file
        card["init_from"] = ("stage 1 of scripts/build_models.py (configs/train/ship_general.yaml), "
                             "finished with configs/train/ship_finish.yaml")
    (models / name / CARD).write_text(json.dumps(card, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return shipped


def _transposed(semitones: int) -> str:
    return f"transposed -{semitones}..+{semitones} semitones" if semitones else "not transposed"


def notes_for(name: str, command: str, recipe: dict, data: dict, seconds: float, finish_s: float = 0.0) -> str:
    """The model card's paragraph: which stage of which command, and what it was trained on."""
    public = data["public"]["by_collection"]
    minutes = f"{seconds / 60:.0f} min"
    if name == "default":
        return (f"Stage 1 of `{command}`: {recipe['general_steps']} steps of "
                f"configs/train/ship_general.yaml ({minutes}; note and chord embeddings start from their "
                "pitch classes, pipelines/train/backends/musical_init.py) on music21's public-domain corpus "
                f"rendered for piano, chords named by the studio's recogniser ({public.get('chorales', 0)} "
                f"Bach chorales, {public.get('quartets', 0)} string-quartet movements, "
                f"{public.get('piano', 0)} piano and song pieces, {public.get('leadsheets', 0)} lead sheets; "
                f"first {recipe['public_max_bars']} bars each, only pieces whose notes the recognised chords "
                f"explain at least {recipe['public_min_fit']:.0%} (tension-aware chord-tone ratio), "
                "style token `classical`) and "
                f"{recipe['general_rules']} Gospel + {recipe['general_rules']} Mehldau performances of the "
                "rule engines over the wide corpus's charts (standards' moves, every key, meters 4/4 3/4 5/4 "
                f"7/4, slash chords, N.C. bars), {_transposed(recipe['transpose_general'])}; then a "
                f"finishing pass of every weight ({recipe['finish_steps']} steps of "
                f"configs/train/ship_finish.yaml, {finish_s / 60:.0f} min) on {recipe['finish_rules']} + "
                f"{recipe['finish_rules']} performances of other wide-corpus charts in the engines' plain "
                f"idiom (straight eighths, plain left hands, no ostinato), "
                f"{_transposed(recipe['transpose_finish'])}: the chord tones sharpened, the styles' full "
                "idiom left to the adapters.")
    return (f"Stage 2 of `{command}`: a LoRA (configs/train/ship_style.yaml, {recipe['style_steps']} steps, "
            f"{minutes}) on the default model, trained on {recipe['style_rules']} {name.title()} "
            "performances of the rule engine in its full idiom over other wide-corpus charts, "
            f"{_transposed(recipe['transpose_style'])}.")


def build(recipe_name: str, out: Path, reuse: bool) -> dict:
    """Steps 1-4 of the module docstring; returns the build's record (also in DIR/build.json)."""
    recipe = RECIPES[recipe_name]
    command = f"python scripts/build_models.py{' --quick' if recipe_name == 'quick' else ''}"
    models = out / "models"
    out.mkdir(parents=True, exist_ok=True)
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    data = build_data(recipe_name, recipe, out, reuse)
    timings["data_s"] = time.perf_counter() - t0
    record = {"command": command, "recipe": recipe, "rule_corpora": rule_corpora(recipe),
              "music21_pieces": data["public"]["by_collection"]}
    general = dataset_name(recipe_name, "general")
    made = data["recipes"]
    best, trained, timings["stage1_s"] = train("ship_general", out / "runs" / "general",
                                               {"dataset": general, "max_steps": recipe["general_steps"]}, reuse,
                                               made[general])
    finish = dataset_name(recipe_name, "finish")
    best, finished, timings["stage1_finish_s"] = train(
        "ship_finish", out / "runs" / "finish", {"dataset": finish, "base_model": str(best),
                                                 "max_steps": recipe["finish_steps"]},
        reuse and not trained, made[finish])
    trained = trained or finished
    notes = notes_for("default", command, recipe, data, timings["stage1_s"], timings["stage1_finish_s"])
    ship(best, "default", general, notes, models, record, also_from=(finish,))
    for style in STYLES:
        settings = {"dataset": dataset_name(recipe_name, style), "base_model": str(models / "default"),
                    "max_steps": recipe["style_steps"], "run_name": f"ship-{style}"}
        best, _, timings[f"stage2_{style}_s"] = train("ship_style", out / "runs" / style, settings,
                                                      reuse and not trained, made[settings["dataset"]])
        notes = notes_for(style, command, recipe, data, timings[f"stage2_{style}_s"])
        ship(best, style, settings["dataset"], notes, models, record, base_name="default",
             also_from=(general, finish))  # it plays on the default model, which learned those
    timings["wall_s"] = time.perf_counter() - t0
    timings["total_s"] = timings["data_s"] + sum(v for k, v in timings.items() if k.startswith("stage"))
    summary = {**record, "data": data, "timings_s": {k: round(v, 1) for k, v in timings.items()},
               "models": str(models)}
    (out / "build.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return summary


CARD_FIGURES = ("chord_tone_ratio_tension_aware", "bass_on_change", "guide_tones", "silent_bars",
                "styles_apart", "apart_from_default", "shared_notes", "copied_4bar", "max_notes_per_onset",
                "doubled_keys", "failed", "takes")
BENCH_HEADING = "## Bench: held-out charts"


def _bench_table(name: str, report: dict, figures: dict) -> str:
    which = (f"the {report['n_charts']} charts (both styles)" if name == "default"
             else "the charts of its own style")
    told = report.get("temperature")
    if told in (None, "the style's"):
        from pipelines.generate.api import temperatures_text

        temperature = f"each style's temperature ({temperatures_text()})"
    else:
        temperature = f"temperature {told}"
    lines = [BENCH_HEADING, "",
             f"Played over {which} of `{report['charts']}`, {report['seeds']} seeds each "
             f"(`python bench/bench_model_quality.py`), sampled at {temperature}, at the style's default "
             "harmony strength and at 0 (the raw model); styles told apart and told apart from the default "
             "model: cross-validated accuracy, chance 0.5.", "",
             "| figure | goal | " + " | ".join(f"strength {s}" for s in figures) + " |",
             "|---|---|" + "---|" * len(figures)]
    for key in CARD_FIGURES:
        values = [figures[s].get(key) for s in figures]
        if any(v is not None for v in values):
            cells = " | ".join("" if v is None else str(v) for v in values)
            lines.append(f"| {key} | {report.get('goals', {}).get(key, '')} | {cells} |")
    return "\n".join(lines) + "\n"


def write_card_figures(bench_file: Path, models_dir: Path) -> list[str]:
    """The bench's figures of each model folder it measured, into that folder's card and README."""
    report = json.loads(bench_file.read_text(encoding="utf-8"))
    written = []
    for name in ("default", *STYLES):
        rows = {key.rsplit(" @ ", 1)[1]: value for key, value in report["models"].items()
                if Path(key.rsplit(" @ ", 1)[0]).name == name}
        folder = models_dir / name
        if not rows or not (folder / CARD).is_file():
            continue
        figures = {setting: {k: row.get(k) for k in CARD_FIGURES} for setting, row in rows.items()}
        card = json.loads((folder / CARD).read_text(encoding="utf-8"))
        card["bench"] = {"command": "python bench/bench_model_quality.py", "charts": report["charts"],
                         "seeds": report["seeds"], "temperature": report.get("temperature"), "settings": figures}
        (folder / CARD).write_text(json.dumps(card, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        readme = (folder / "README.md").read_text(encoding="utf-8").split(BENCH_HEADING)[0].rstrip()
        text = readme + "\n\n" + _bench_table(name, report, figures)
        (folder / "README.md").write_text(text, encoding="utf-8")
        written.append(str(folder))
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a few pieces and steps: proves the recipe")
    parser.add_argument("--out", default=None, help="build folder (default <workspace>/build-models[-quick])")
    parser.add_argument("--reuse", action="store_true", help="keep the datasets and finished runs of a build")
    parser.add_argument("--install", action="store_true", help="copy the built models over checkpoints/")
    parser.add_argument("--card-figures", default=None, metavar="BENCH.json",
                        help="only write a bench report's figures into the model cards, then stop")
    parser.add_argument("--models-dir", default=None,
                        help="with --card-figures: the models' folder (default checkpoints)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from pipelines.common.paths import checkpoints_dir, workspace_dir

    if args.card_figures:
        models_dir = Path(args.models_dir) if args.models_dir else checkpoints_dir()
        print(json.dumps({"cards": write_card_figures(Path(args.card_figures), models_dir)}))
        return
    out = Path(args.out) if args.out else workspace_dir() / f"build-models{'-quick' if args.quick else ''}"
    summary = build("quick" if args.quick else "full", out, args.reuse)
    if args.install:
        for name in ("default", *STYLES):
            shutil.copytree(out / "models" / name, checkpoints_dir() / name, dirs_exist_ok=True)
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
