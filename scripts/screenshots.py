"""Take README screenshots of every tab from a running studio (python scripts/screenshots.py URL)."""
from __future__ import annotations

import sys
from pathlib import Path

from playwright.sync_api import sync_playwright

OUT = Path(__file__).resolve().parents[1] / "assets" / "screenshots"


def main(url: str) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", headless=True,
                                     args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(url)
        page.get_by_role("tab", name="Generate").click()
        page.get_by_role("button", name="Generate", exact=True).click()
        page.locator("audio[src]").first.wait_for(state="attached", timeout=120_000)
        page.wait_for_timeout(1000)
        page.screenshot(path=str(OUT / "generate.png"), full_page=True)
        browser.close()


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:7860")
