"""docs/report.png: the examples' HTML report in headless Chromium, one incident and one alert opened.

.venv/bin/python scripts/screenshot_report.py [--chromium /usr/bin/chromium]
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path

from iisdetect.cli import main

ROOT = Path(__file__).resolve().parents[1]
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip

if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--chromium", default="/usr/bin/chromium")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        page_path = Path(tmp) / "report.html"
        os.chdir(ROOT)  # relative source paths in the picture
        ex = Path("examples")
        main(["hunt", str(ex), "--tuning", str(ex / "tuning.example.yaml"), "--format", "html", "-o", str(page_path),
              "--no-progress"])  # fmt: skip
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=args.chromium, args=ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 1500})
            page.goto(page_path.as_uri())
            page.evaluate("document.querySelector('nav').style.position = 'static'") if False else None
            inc = page.locator("details.incident").nth(2)
            inc.locator("summary").first.click()
            inc.locator("details.alert summary").first.click()
            top = page.locator("#timeline").bounding_box()["y"] - 8
            clip = {"x": 0, "y": top, "width": 1280, "height": 1400}
            page.screenshot(path=str(ROOT / "docs" / "report.png"), clip=clip,
                            full_page=True)  # fmt: skip
            browser.close()
    print("wrote docs/report.png")
