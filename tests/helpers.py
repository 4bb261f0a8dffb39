"""Running the real `tthc-bot` command line in a subprocess, as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def cli(
    *args: str,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    timeout: int = 120,
    input_text: str | None = None,
) -> subprocess.CompletedProcess[str]:
    drop = ("DATABASE_URL", "KNOWLEDGE_DIR", "TELEGRAM", "SECRET_KEY")
    full_env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        capture_output=True,
        input=input_text,
        text=True,
        env=full_env,
        cwd=cwd or ROOT,
        timeout=timeout,
    )
