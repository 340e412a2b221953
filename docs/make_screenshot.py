"""Regenerate docs/report.png (desktop) and docs/report-phone.png (375 px): a report built from the real history in
../shared/data, as the README shows it.

    .venv/bin/python docs/make_screenshot.py [--shared ../shared] [--out docs/report.png]
                                             [--phone-out docs/report-phone.png]

Builds a replay directory from the real files (tests/replay.py), runs the daily job offline as of 2026-08-21
(the newest date at which the core series are fresh) with the shipped config.toml (its paths moved to a
temporary folder, mail written as files), and takes a screenshot of report.html in headless Chromium (Debian's
`chromium`).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
AS_OF = "2026-08-21"
PHONE_WIDTH = 375  # CSS px: the narrow phone the report is tested at (tests/reports/test_phone.py)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "report.png")
    parser.add_argument("--height", type=int, default=2600, help="Screenshot height in CSS pixels.")
    parser.add_argument("--phone-out", type=Path, default=REPO / "docs" / "report-phone.png")
    parser.add_argument("--phone-height", type=int, default=4800, help="Phone screenshot height in CSS pixels.")
    args = parser.parse_args()
    chromium = shutil.which("chromium")
    if chromium is None:
        print("error: Debian's chromium is needed (apt-get install chromium)", file=sys.stderr)
        return 2
    sys.path.insert(0, str(REPO))
    from tests.replay import build_replay_dir

    with tempfile.TemporaryDirectory(prefix="monitor-screenshot-") as tmp:
        work = Path(tmp)
        replay = build_replay_dir(args.shared, work / "replay")
        config = (REPO / "config.toml").read_text()
        config = config.replace('store = "data/monitor.sqlite"', f'store = "{work / "monitor.sqlite"}"')
        config = config.replace('exports = "exports"', f'exports = "{work / "exports"}"')
        config = config.replace('directory = "exports/mail"', f'directory = "{work / "mail"}"')
        (work / "config.toml").write_text(config)
        run = [
            sys.executable,
            "-m",
            "monitor",
            "run",
            "--config",
            str(work / "config.toml"),
            "--as-of",
            AS_OF,
            "--replay",
            str(replay),
            "--format",
            "png",
            "--log-format",
            "json",
        ]
        done = subprocess.run(run, cwd=REPO, capture_output=True, text=True)
        if done.returncode not in (0, 1):  # 1 = done with errors: some series have no real data to replay
            print(done.stderr, file=sys.stderr)
            return done.returncode
        report = work / "exports" / AS_OF / "report.html"
        for out, width, height in ((args.out, 1100, args.height), (args.phone_out, PHONE_WIDTH, args.phone_height)):
            out.parent.mkdir(parents=True, exist_ok=True)
            subprocess.run(
                [
                    chromium,
                    "--headless=new",
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                    "--no-first-run",
                    "--hide-scrollbars",
                    f"--user-data-dir={work / 'chromium'}",
                    f"--window-size={width},{height}",
                    f"--screenshot={out}",
                    report.as_uri(),
                ],
                check=True,
                capture_output=True,
            )
            print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
