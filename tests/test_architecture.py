"""The architecture's two rules, checked: pure thresholds and engine; shipped versions never edited."""
import hashlib
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Published threshold versions are immutable: stored assessments point at these hashes.
# To change the thresholds, add a new file (see README); never edit one listed here.
PUBLISHED = {
    "northmere-2024-09": "2aeae8f4f1094e23029b173294b39824a1a3a83be1edefa588b649fc25de33cf",
    "northmere-2026-04": "1ebaf75481fb9480e21b4fe19e634e712bb60a9aa5b0487c528f0023d27bc206",
    "northmere-2026-12": "c9b6ef268ca8f6d51ae473ae72bf22c7da8e0d83a09fe4bc62e1356812dcc693",
    "northmere-2026-12-2": "65594738d55bddf5fc71e0d7679b5f27afaebe2e46f537aa7abd68c58f28ffa1",
    "northmere-2026-12-3": "cd041139abf7391c85559496163491c98b95ba6e2fb6179bb9a3719903212115",
    "northmere-2026-12-4": "c04b80d2ddc86acc74058c31c7116f1799d148dd5bf0c5c0552d8fb36ce22d7b",
    "northmere-2026-12-5": "0ee3f5a7199ae2cf4c8410ae25afa537e62802da8338ea71fa98945d6860fb84",
}


def test_thresholds_engine_and_journey_import_no_flask_and_no_database():
    code = ("import sys, signpost.thresholds, signpost.engine, signpost.directory, signpost.journey;"
            "print(sorted(m for m in ('flask', 'sqlalchemy', 'flask_sqlalchemy', 'werkzeug', 'psycopg')"
            " if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_published_threshold_versions_are_never_edited():
    for version_id, expected in PUBLISHED.items():
        text = (ROOT / "thresholds" / f"{version_id}.yaml").read_bytes()
        assert hashlib.sha256(text).hexdigest() == expected, (
            f"thresholds/{version_id}.yaml has changed since it was published. A published version "
            "is never edited: put the change in a new version file with a later effective_from.")
