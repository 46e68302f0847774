"""Screenshots of the human-facing pages, for the docs (a helper, not a test).

One command::

    python bench/screenshots.py [--out docs/screenshots] [--base URL]

starts ``practicebank serve --demo`` on a free loopback port with a throwaway store (or uses
the server at ``--base``), opens the landing page, a practice page, a concept scheme page,
the ontology page and the workbench (the query editor with an example's results, the
faceted practices, a search, the charts, a comparison) in Debian's ``chromium`` (driven by
Playwright, the way tests/browser_fixtures.py launches it: no browser is ever downloaded)
and saves each as a PNG of the first 1280x900 pixels, which is what a reader sees before
scrolling.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: (file name, path on the server, what to do before the picture: None, or "run" to run
#: the editor's query and wait for its table).
PAGES = (
    ("landing.png", "/", None),
    ("practice.png", "/id/practice/clear-hold-build.html", None),
    ("concept-scheme.png", "/concept/topic.html", None),
    ("ontology.png", "/def/", None),
    ("query-editor.png", "/query?example=08-forces-by-practice-count", "run"),
    ("practices.png", "/practices?rating=promising", None),
    ("search.png", "/search?q=burglary", None),
    ("charts.png", "/charts", None),
    ("compare.png", "/compare?topic=knife-crime", None),
)
VIEWPORT = {"width": 1280, "height": 900}
#: As tests/browser_fixtures.py: --no-sandbox because CI runs as root; the rest keep a
#: headless chromium off the network (no update checks, no sync, no QUIC probes).
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_demo(folder: Path) -> tuple[subprocess.Popen, str]:
    """``practicebank serve --demo`` on a free port, once it answers /health."""
    port = free_port()
    cli = Path(sys.executable).with_name("practicebank")
    command = [str(cli) if cli.exists() else shutil.which("practicebank") or "practicebank",
               "serve", "--demo", "--port", str(port), "--store", str(folder / "store")]
    log = folder / "serve.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=out,
                                   start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180
    while True:
        if process.poll() is not None:
            sys.exit(f"the demo server exited:\n{log.read_text()}")
        try:
            urllib.request.urlopen(f"{base}/health", timeout=2).close()
            return process, base
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            if time.monotonic() > deadline:
                stop(process)
                sys.exit(f"the demo server did not answer in 180 s:\n{log.read_text()}")
            time.sleep(0.2)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def shoot(base: str, out: Path) -> list[Path]:
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium")
    if executable is None:
        sys.exit("Debian's chromium is needed: apt-get install chromium")
    out.mkdir(parents=True, exist_ok=True)
    saved = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport=VIEWPORT)
            for name, path, action in PAGES:
                response = page.goto(base + path)
                if response is None or response.status != 200:
                    status = response.status if response else "no answer"
                    print(f"{path}: {status}, not saved", file=sys.stderr)
                    continue
                if action == "run":
                    page.click(".yasqe_queryButton")
                    page.wait_for_selector(".yasr table.dataTable tbody tr")
                target = out / name
                page.screenshot(path=str(target), full_page=False)
                saved.append(target)
                print(f"{target.relative_to(ROOT) if target.is_relative_to(ROOT) else target}"
                      f" <- {path}")
        finally:
            browser.close()
    return saved


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots",
                        help="folder for the PNGs (default: docs/screenshots)")
    parser.add_argument("--base", help="use the server at this URL instead of starting one")
    args = parser.parse_args()
    if args.base:
        saved = shoot(args.base.rstrip("/"), args.out)
    else:
        with tempfile.TemporaryDirectory(prefix="practicebank-screenshots-") as tmp:
            process, base = start_demo(Path(tmp))
            try:
                saved = shoot(base, args.out)
            finally:
                stop(process)
    if len(saved) != len(PAGES):
        sys.exit(f"saved {len(saved)} of {len(PAGES)} screenshots")


if __name__ == "__main__":
    main()
