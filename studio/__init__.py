"""The Gradio UI only: one module per tab. No ML or MIDI logic here (a test checks the imports)."""
from __future__ import annotations

import importlib

import gradio as gr

from .common import check_inputs_first
from .settings import StudioSettings

TITLE = "Music Model Studio"

# The tabs in the order they appear. Each module has ``build(settings)``, which opens its own
# ``gr.Tab``; a capability's tab is listed here when it lands (no placeholder tabs).
TABS = (
    "data_tab",
    "train_tab",
    "transcribe_tab",
    "generate_tab",
    "listen_tab",
)


def build_studio(settings: StudioSettings | None = None) -> gr.Blocks:
    """The whole studio as one ``gr.Blocks``; ``settings.listen_only`` serves only a listening test."""
    settings = settings or StudioSettings()
    with gr.Blocks(title=TITLE) as demo:
        if settings.listen_only:
            importlib.import_module("studio.listen_tab").build_participant_page(settings)
            return check_inputs_first(demo)
        gr.Markdown(f"# {TITLE}\nTokenize MIDI, fine-tune music models, compare transcriptions, "
                    "generate chord-conditioned piano and run blind listening tests, in one place.")
        with gr.Tabs() as tabs:
            for name in TABS:
                build = importlib.import_module(f"studio.{name}").build
                if name == "listen_tab":  # a ?listen= link selects its tab
                    build(settings, tabs)
                else:
                    build(settings)
    return check_inputs_first(demo)
