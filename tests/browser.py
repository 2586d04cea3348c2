"""Open an HTML file in Debian's headless chromium: the DOM after scripts ran, console messages, a screenshot."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
_CONSOLE = re.compile(r":CONSOLE[:(]\d*\)?\]? ?(.*)")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--virtual-time-budget=5000"]


def load(html: Path, screenshot: Path, width: int = 1366, height: int = 2400) -> tuple[str, list[str]]:
    """(DOM after load, console messages). The screenshot is taken at a laptop-like width."""
    url = html.resolve().as_uri()
    dom = subprocess.run([CHROMIUM, *FLAGS, "--enable-logging=stderr", "--v=0", "--dump-dom", url],
                         capture_output=True, text=True, timeout=120)
    console = [match.group(1) for line in dom.stderr.splitlines() if (match := _CONSOLE.search(line))]
    subprocess.run([CHROMIUM, *FLAGS, f"--window-size={width},{height}", f"--screenshot={screenshot}", url],
                   capture_output=True, text=True, timeout=120, check=True)
    return dom.stdout, console
