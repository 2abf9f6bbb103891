"""How long each page of the referral journey takes to answer, through the whole Flask stack.

Walks the journey N times on a temporary SQLite database (the `make run` default) and prints
the median and 95th-percentile time of every page, GET and POST, then, last, the slowest
95th percentile as `slowest_page_p95_ms: N` (goal: under 100). The baseline line times
/healthz, the cheapest page, in the same run, so the figures can be read as a ratio.
Run: .venv/bin/python benchmarks/journey.py [journeys]
"""
from __future__ import annotations

import random
import re
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from signpost import create_app, journey, store  # noqa: E402
from signpost.content import current_version  # noqa: E402
from signpost.extensions import db  # noqa: E402

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def main(journeys: int = 30) -> None:
    folder = tempfile.mkdtemp()
    app = create_app({"SECRET_KEY": "bench-" + "x" * 40, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/b.db",
                      "ARGON2_TIME_COST": 1, "ARGON2_MEMORY_COST": 8, "ARGON2_PARALLELISM": 1})
    timings: dict[str, list[float]] = defaultdict(list)
    rng = random.Random(1)
    with app.app_context():
        db.create_all()
        user = store.create_user("bench@example.org", "Bench", "referrer", "x" * 16, actor="bench")
        version = current_version()
        client = app.test_client()
        with client.session_transaction() as session:
            session["_user_id"] = user.get_id()
            session["last_seen"] = session["signed_in_at"] = int(time.time())

        def timed(name, method, path, data=None):
            start = time.perf_counter()
            response = client.open(path, method=method, data=data)
            timings[f"{method} {name}"].append((time.perf_counter() - start) * 1000)
            expected = 200 if method == "GET" else 302
            assert response.status_code == expected, (method, path, response.status_code, response.location)
            return response

        for _ in range(200):
            timed("/healthz (baseline)", "GET", "/healthz")
        token = TOKEN.search(client.get("/").text).group(1)
        for n in range(journeys + 1):
            if n == 1:  # the first journey compiles every template: a warm-up, not timed
                warm = timings.pop("GET /healthz (baseline)")
                timings.clear()
                timings["GET /healthz (baseline)"] = warm
            timed("/ (start)", "GET", "/")
            timed("/refer/new", "POST", "/refer/new", {"csrf_token": token})
            years = rng.randint(0, 17)
            steps = [("danger", {"in_danger": "no"}), ("about-you", {"role": "dsl", "organisation": "school"}),
                     ("about-child", {"born": "born", "years": years, "months": 0})]
            for slug, data in steps:
                timed(f"/refer/{slug}", "GET", f"/refer/{slug}")
                location = timed(f"/refer/{slug}", "POST", f"/refer/{slug}", {"csrf_token": token, **data}).location
            answers = {"child": {"unborn": False, "years": years, "months": 0}}
            pages = {p.id: p for p in journey.concerns_pages(version, answers)}
            while location.startswith(("/refer/concerns-", "/refer/severity-")):
                page = location.removeprefix("/refer/").replace("-", "_")
                name = "/refer/concerns-*" if page.startswith("concerns") else "/refer/severity-*"
                timed(name, "GET", location)
                if page.startswith("concerns"):
                    items = [i.id for i in pages[page].items if i.id not in version.indicators
                             or not version.indicators[i.id].immediate]
                    data = {"concerns": rng.sample(items, k=min(2, len(items))) if rng.random() < 0.3 else ["none"]}
                else:
                    options = [o for o in version.severity_options(page.removeprefix("severity_"))
                               if not o.immediate and journey.applies(o, years * 12, False)]
                    data = {"severity": options[0].id}
                location = timed(name, "POST", location, {"csrf_token": token, **data}).location
            for slug, data in [("voice", {"seen": "yes", "says": "Fine", "wants": "Nothing"}),
                               ("family", {"working_well": "School attendance"}),
                               ("consent", {"aware": "yes", "consent": "given"})]:
                timed(f"/refer/{slug}", "GET", f"/refer/{slug}")
                timed(f"/refer/{slug}", "POST", f"/refer/{slug}", {"csrf_token": token, **data})
            timed("/refer/check", "GET", "/refer/check")
            timed("/refer/check", "POST", "/refer/check", {"csrf_token": token})
            timed("/refer/recommendation", "GET", "/refer/recommendation")
            timed("/refer/summary", "GET", "/refer/summary")
            timed("/refer/start-again", "POST", "/refer/start-again", {"csrf_token": token})

    print(f"{'page':40} {'n':>5} {'median ms':>10} {'p95 ms':>8}")
    worst = 0.0
    baseline = statistics.median(timings["GET /healthz (baseline)"])
    for name, values in sorted(timings.items()):
        values.sort()
        p95 = values[min(len(values) - 1, int(len(values) * 0.95))]
        if "baseline" not in name:
            worst = max(worst, p95)
        print(f"{name:40} {len(values):>5} {statistics.median(values):>10.1f} {p95:>8.1f}")
    print(f"baseline_healthz_median_ms: {baseline:.2f}")
    print(f"slowest_page_p95_over_baseline: {worst / baseline:.1f}")
    print(f"slowest_page_p95_ms: {worst:.1f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 30)
