"""Use the running studio as a person would and take the README's screenshots of every tab.

    python scripts/screenshots.py [URL] [CORPUS_DIR]

Data: upload a few corpus files (a corrupt one among them), ingest, tokenize. Transcribe A/B: an
oracle A/B of a multi-track song. Train and Listen: their forms. Generate: one take of the default model, its rules shown.
"""
from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

OUT = Path(__file__).resolve().parents[1] / "assets" / "screenshots"
CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "midi"


def shoot(page, name: str) -> None:
    page.wait_for_timeout(800)
    height = page.evaluate("document.body.scrollHeight")
    for y in range(0, height, 600):  # images below the fold load only once scrolled into view
        page.evaluate(f"window.scrollTo(0, {y})")
        page.wait_for_timeout(150)
    page.evaluate("window.scrollTo(0, 0)")
    page.wait_for_timeout(800)
    page.screenshot(path=str(OUT / f"{name}.png"), full_page=True)


def main(url: str, corpus: Path) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                     args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(url)
        # Data
        page.get_by_role("tab", name="Data").click()
        files = sorted((corpus / "piano").glob("POP909_*.mid"))[:3] + [corpus / "corrupted" / "empty.mid"]
        name = page.get_by_label("Dataset name")
        name.fill("pop-piano")
        name.press("Enter")
        page.locator("input[type=file]").first.set_input_files([str(f) for f in files])
        page.wait_for_timeout(8000)  # the upload lists the four files
        page.get_by_role("button", name="Ingest", exact=True).click()
        expect(page.locator("body")).to_contain_text("3 kept, 1 skipped", timeout=180_000)
        page.get_by_role("button", name="Tokenize", exact=True).click()
        page.get_by_text("round_trip_overall").first.wait_for(timeout=180_000)
        page.wait_for_timeout(3000)
        shoot(page, "data")
        # Transcribe A/B
        page.get_by_role("tab", name="Transcribe A/B").click()
        page.locator("#transcribe-input input[type=file]").set_input_files(
            str(corpus / "multitrack" / "What a Fool Believes.mid"))
        page.wait_for_timeout(5000)
        page.get_by_label("Use the first N seconds (0 = all)").fill("15")
        page.locator("#transcribe-run").click()
        expect(page.locator("#transcribe-table")).to_contain_text("all pitched", timeout=300_000)
        page.wait_for_timeout(5000)
        shoot(page, "transcribe")
        # Train and Listen: the forms
        page.get_by_role("tab", name="Train").click()
        page.get_by_role("button", name="Preview command").click()
        shoot(page, "train")
        page.get_by_role("tab", name="Listen").click()
        shoot(page, "listen")
        # Generate
        page.get_by_role("tab", name="Generate").click()
        page.locator("#generate-model input").click()
        page.get_by_role("option", name="default (checkpoints/default)").click()
        page.get_by_text("Pianist's rules (trained models)").click()   # the rules the decoder holds it to
        page.get_by_role("button", name="Generate", exact=True).click()
        page.get_by_text("Root or slash bass at chord changes").first.wait_for(timeout=300_000)
        page.locator("audio[src]").first.wait_for(state="attached", timeout=120_000)
        shoot(page, "generate")
        browser.close()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:7860",
         Path(sys.argv[2]) if len(sys.argv) > 2 else CORPUS)
