"""How far benchmarks/http.py's ratio could rise: Signpost with three costs of every signed-in page taken away.

Never served for real: `python benchmarks/http.py --ceiling` serves this app in Signpost's place, and
`python benchmarks/request_floor.py --ceiling` calls it in process. Each cost is one that profiling
named, taken away whole, so the figure is an upper bound for work on it, not a way to run:
- checking the session against the database on a page's GET: each worker loads the user and the draft
  once a second and reuses them in between, so a disabled account or a session ended elsewhere would go unnoticed
  (a form sent with POST loads them as Signpost does);
- the layout's own parts for a signed-in user (the header with the role's menu and Sign out, the footer,
  the timeout warning): fixed text of about their size in their place;
- the rate limiter's check on each request.
"""
from __future__ import annotations

import re
import time
from pathlib import Path

from flask import Flask, request
from jinja2 import DictLoader

ROOT = Path(__file__).resolve().parent.parent
# About the size of each block as rendered for a signed-in referrer, so the response is as long.
BLOCK_SIZES = {"header": 2600, "footer": 1100, "bodyEnd": 4700}
KEPT_SECONDS = 1.0


def without_costs(app: Flask) -> Flask:
    """The app with the three costs above taken away (before any template is compiled)."""
    from signpost import database
    from signpost.extensions import db, limiter

    loaded: dict = {}
    real = database.user_with_draft

    def user_with_draft(user_id, draft_id):
        if request.method != "GET":  # a form sent may change the draft: this worker loads it afresh after
            loaded.clear()
            return real(user_id, draft_id)
        # Kept for a second: long enough that a load test's GETs come from memory, short enough that a
        # draft answered through another worker (the benchmark's walk through the journey) is not served
        # stale for the whole run, redirecting to a question it has since answered.
        when, found = loaded.get((user_id, draft_id), (None, None))
        if when is None or time.monotonic() - when > KEPT_SECONDS:
            found = real(user_id, draft_id)
            loaded[(user_id, draft_id)] = (time.monotonic(), found)
        user, draft = found
        for record in (user, draft):
            if record is not None and record not in db.session:
                db.session.add(record)
        return user, draft
    database.user_with_draft = user_with_draft

    base = (ROOT / "templates" / "base.html").read_text()
    for block, size in BLOCK_SIZES.items():
        base, found = re.subn(r"{%% block %s %%}.*?{%% endblock %%}" % block,
                              "{%% block %s %%}%s{%% endblock %%}" % (block, "<!-- layout -->".ljust(size)),
                              base, count=1, flags=re.S)
        assert found, f"no {block} block in base.html"
    app.jinja_loader.loaders.insert(0, DictLoader({"base.html": base}))
    app.jinja_env.cache.clear()

    def limiter_hook(function) -> bool:
        return limiter in (getattr(function, "__self__", None), *getattr(function, "args", ()))
    for hooks in (app.before_request_funcs, app.after_request_funcs, app.teardown_request_funcs):
        for key, functions in hooks.items():
            hooks[key] = [f for f in functions if not limiter_hook(f)]
    return app


def _served() -> Flask:
    import wsgi
    return without_costs(wsgi.app)


def __getattr__(name: str):  # `gunicorn benchmarks.ceiling:app`, built only when asked for
    if name == "app":
        globals()["app"] = _served()
        return globals()["app"]
    raise AttributeError(name)
