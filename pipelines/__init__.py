"""The studio's library: plain Python pipelines, no gradio import anywhere below here."""
