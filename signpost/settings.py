"""Every setting, read from the environment once, with safe defaults for `make run`.

create_app(settings) takes a dict that overrides these (the tests use it).
"""
from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def from_environment(env=os.environ) -> dict:
    return {
        "THRESHOLDS_DIR": env.get("SIGNPOST_THRESHOLDS_DIR", str(ROOT / "thresholds")),
        "DIRECTORY_PATH": env.get("SIGNPOST_DIRECTORY_PATH", str(ROOT / "directory" / "services.yaml")),
    }
