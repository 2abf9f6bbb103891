"""Where a journey page's time goes, in process: what benchmarks/http.py's ratio can reach.

Calls the WSGI apps directly (no server, no client), in one process, taking turns round after
round and keeping each one's fastest round (the machine's drift only ever adds time):
- bare Flask's page (benchmarks/bare_flask.py: the layout, nothing else);
- Signpost, signed in with a draft, answering an empty page: the floor every signed-in page
  pays (the session, the user and the draft loaded, the security hooks, the response headers);
- Signpost, signed in, rendering bare Flask's page through its own layout (the header with the
  role's menu and Sign out, the danger banner, the footer): the floor of every page with the layout;
- every page of the load test's journey that answers 200 itself.
Prints each time and its ratio to bare Flask's, then last `layout_floor_vs_bare_flask: R`: the
ratio a journey page that cost nothing beyond the layout would give. Over HTTP (benchmarks/http.py)
the ratios are higher, since the server's own work per request is the same for both.
Run: .venv/bin/python benchmarks/request_floor.py [--rounds 8] [--calls 500]
The two floor pages are added to this process's app only, never to Signpost's own routes.
"""
from __future__ import annotations

import argparse
import io
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]  # benchmarks/http.py is not `http`
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "loadtests"))

from flask import Blueprint, render_template  # noqa: E402
from jinja2 import DictLoader  # noqa: E402

from benchmarks import bare_flask  # noqa: E402
from benchmarks.turns import in_turn  # noqa: E402
from signpost import create_app, store  # noqa: E402
from signpost.web.journey import needs_draft  # noqa: E402
from signpost.web.security import role_required  # noqa: E402

CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
USER_AGENT = "Mozilla/5.0 (X11; Linux x86_64) signpost-benchmark"
PASSWORD = "benchmark-password-1"


def floor_pages() -> Blueprint:
    bp = Blueprint("floor", __name__, url_prefix="/refer/floor")

    @bp.get("/empty")
    @role_required("referrer")
    @needs_draft
    def empty(draft):
        return ""

    @bp.get("/layout")
    @role_required("referrer")
    @needs_draft
    def layout(draft):
        return render_template("bare_page.html")
    return bp


def signed_in(app) -> tuple[str, list[str]]:
    """A referrer's session cookie, with the load test's journey answered up to Check your answers."""
    from journey_plan import DRAFT_ID, PLAN
    with app.app_context():
        store.create_user("bench@example.org", "Bench", "referrer", PASSWORD, actor="benchmark")
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = USER_AGENT
    token = CSRF.search(client.get("/sign-in").get_data(as_text=True)).group(1)
    client.post("/sign-in", data={"csrf_token": token, "email": "bench@example.org", "password": PASSWORD})
    token = CSRF.search(client.get("/").get_data(as_text=True)).group(1)
    client.post("/refer/new", data={"csrf_token": token})
    draft_id = DRAFT_ID.search(client.get("/refer/danger").get_data(as_text=True)).group(1)
    for path, data in PLAN.items():
        client.post(path, data={**data, "draft_id": draft_id, "csrf_token": token})
    cookie = "; ".join(f"{c.key}={c.value}" for c in client._cookies.values())
    return cookie, list(PLAN)


def caller(app, path: str, cookie: str):
    """A function that answers one GET of path, as a WSGI server would call the app; its status."""
    base = {"REQUEST_METHOD": "GET", "PATH_INFO": path, "SCRIPT_NAME": "", "QUERY_STRING": "",
            "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000", "SERVER_PROTOCOL": "HTTP/1.1",
            "wsgi.url_scheme": "http", "wsgi.errors": sys.stderr, "wsgi.multithread": False,
            "wsgi.multiprocess": True, "wsgi.run_once": False, "wsgi.version": (1, 0),
            "REMOTE_ADDR": "127.0.0.1", "HTTP_HOST": "127.0.0.1:8000", "HTTP_COOKIE": cookie,
            "HTTP_USER_AGENT": USER_AGENT}
    status = []

    def start_response(line, headers, exc_info=None):
        status.append(line)

    def call() -> str:
        status.clear()
        for _chunk in app({**base, "wsgi.input": io.BytesIO()}, start_response):
            pass
        return status[0]
    return call


def per_call_ms(call, calls: int) -> float:
    started = time.perf_counter()
    for _ in range(calls):
        call()
    return (time.perf_counter() - started) / calls * 1000


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--calls", type=int, default=500, help="calls of each page in each round")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="signpost-floor-") as folder:
        measure(f"sqlite:///{Path(folder) / 'floor.db'}", args)


def measure(url: str, args) -> None:
    subprocess.run([str(Path(sys.executable).parent / "flask"), "--app", "wsgi", "db", "upgrade"], cwd=ROOT,
                   env={"DATABASE_URL": url, "SECRET_KEY": "floor-" + "k" * 40, "PATH": "/usr/bin:/bin"},
                   check=True, capture_output=True)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "floor-" + "k" * 40,
                      "ARGON2_TIME_COST": 1, "ARGON2_MEMORY_COST": 8, "ARGON2_PARALLELISM": 1})
    app.jinja_loader.loaders.insert(0, DictLoader({"bare_page.html": bare_flask.PAGE}))
    app.register_blueprint(floor_pages())
    cookie, journey_pages = signed_in(app)
    pages = {"signed in, empty page": "/refer/floor/empty", "signed in, the layout": "/refer/floor/layout",
             **{path: path for path in journey_pages}}
    callers = {}
    for label, path in pages.items():
        call = caller(app, path, cookie)
        if call().startswith("200"):  # a page this journey skips redirects: not timed
            callers[label] = call
    bare = caller(bare_flask.app, "/page", "")
    assert bare().startswith("200")
    for call in (*callers.values(), bare):  # warm: every template compiled, every cache filled
        per_call_ms(call, 50)
    rounds = in_turn(lambda: {label: per_call_ms(call, args.calls) for label, call in callers.items()},
                     lambda: per_call_ms(bare, args.calls), args.rounds)
    best = {label: min(signpost_ms[label] for signpost_ms, _ in rounds) for label in callers}
    best_bare = min(bare_ms for _, bare_ms in rounds)
    print(f"in process, fastest of {args.rounds} rounds of {args.calls} calls each:")
    print(f"  {'bare Flask, the layout (/page)':<34} {best_bare:6.3f} ms")
    for label, ms in best.items():
        print(f"  {label:<34} {ms:6.3f} ms   bare Flask / this {best_bare / ms:4.2f}")
    print(f"layout_floor_vs_bare_flask: {best_bare / best['signed in, the layout']:.2f}")


if __name__ == "__main__":
    main()
