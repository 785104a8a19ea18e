"""Screenshots of the HTML reports for docs/ (README "Reports and plots").

    registry report --out report/
    .venv/bin/python scripts/report_screenshots.py report/ docs/

Writes docs/report-perez-2023.png (the top of the study's page), docs/report-perez-2023-disagreements.png
(its reported-vs-computed section), docs/report-all-studies.png (the top of index.html) and
docs/report-all-studies-km.png (its survival curves and trajectories), 1280 px wide, in headless Chromium.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from browser import Browser

# (output name, page, section id or None for the top of the page, height in CSS pixels)
SHOTS = [
    ("report-perez-2023.png", "perez-2023.html", None, 1500),
    ("report-perez-2023-disagreements.png", "perez-2023.html", "reported", 1300),
    ("report-all-studies.png", "index.html", None, 1700),
    ("report-all-studies-km.png", "index.html", "km", 1500),
]


def main(report: Path, out: Path) -> None:
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if binary is None:
        sys.exit("chromium is not installed (make setup installs it)")
    out.mkdir(parents=True, exist_ok=True)
    browser = Browser(binary, width=1280, height=1000)
    try:
        for name, page, anchor, height in SHOTS:
            browser.open((report / page).resolve().as_uri())
            if browser.problems():
                sys.exit(f"{page}: {browser.problems()}")
            top = 0 if anchor is None else browser.evaluate(
                f"document.getElementById({anchor!r}).getBoundingClientRect().top + window.scrollY - 8")
            print(browser.screenshot_region(out / name, top, height))
    finally:
        browser.close()


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(Path(sys.argv[1]), Path(sys.argv[2]))
