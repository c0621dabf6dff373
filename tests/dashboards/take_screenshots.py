"""Screenshots of a rendered site, for the README and for people reviewing a change.

    python tests/dashboards/take_screenshots.py deltastore-data/dashboards

writes ``test-artifacts/dashboards/demo-<page>-<width>.png`` at 1440 and 390 px and, with
``--docs``, the README's ``docs/screenshots/demo-<page>.png`` (1440 px, half size).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from dashboards_cdp import Browser, find_chromium

REPO = Path(__file__).resolve().parents[2]
PAGES = ("customers", "products", "fulfillment")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("site", type=Path)
    parser.add_argument("--docs", action="store_true", help="also update docs/screenshots")
    args = parser.parse_args()
    executable = find_chromium()
    if executable is None:
        raise SystemExit("needs Chromium: apt-get install chromium")
    browser = Browser(executable)
    try:
        for name in PAGES:
            for width in (1440, 390):
                page = browser.open((args.site.resolve() / f"{name}.html").as_uri(), width=width)
                try:
                    problems = page.collect().problems()
                    if problems:
                        raise SystemExit(f"{name}.html: {problems}")
                    out = REPO / "test-artifacts" / "dashboards" / f"demo-{name}-{width}.png"
                    page.screenshot(out)
                    print(out)
                    if args.docs and width == 1440:
                        page.screenshot(REPO / "docs" / "screenshots" / f"demo-{name}.png", 0.5)
                finally:
                    page.close()
    finally:
        browser.close()


if __name__ == "__main__":
    main()
