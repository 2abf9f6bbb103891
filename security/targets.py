"""Sign in as a role on a running Signpost (127.0.0.1 only), crawl it, list its forms for sqlmap.

    python security/targets.py URL EMAIL PASSWORD OUT_DIR

Writes OUT_DIR/cookie (the Cookie header) and OUT_DIR/forms.jsonl: one form per line,
{"page", "action", "data"} with a plausible value in every field. A referrer first walks a
journey to the referral page, so every journey form exists. Sign-out is never followed.
"""
from __future__ import annotations

import http.cookiejar
import json
import sys
import urllib.parse
import urllib.request
from html.parser import HTMLParser
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NEVER = ("/sign-out", "/static/", "/api/")


class Forms(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links: list[str] = []
        self.forms: list[dict] = []
        self._form = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "a" and a.get("href", "").startswith("/"):
            self.links.append(a["href"].split("#")[0])
        elif tag == "form":
            self._form = {"action": a.get("action") or "", "method": (a.get("method") or "get").lower(), "data": {}}
        elif self._form is not None and tag in ("input", "textarea", "select") and a.get("name"):
            kind = a.get("type", "text")
            name = a["name"]
            if kind in ("radio", "checkbox"):
                self._form["data"].setdefault(name, a.get("value", "y"))
            elif name not in self._form["data"]:
                self._form["data"][name] = a.get("value") or ("1" if "day" in name or "month" in name or
                                                             name in ("years", "months") else
                                                             "2015" if "year" in name else "test")

    def handle_endtag(self, tag):
        if tag == "form" and self._form is not None:
            self.forms.append(self._form)
            self._form = None


def main(url: str, email: str, password: str, out: Path) -> None:
    assert urllib.parse.urlsplit(url).hostname == "127.0.0.1", "scan only 127.0.0.1"
    out.mkdir(parents=True, exist_ok=True)
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))

    def get(path):
        with opener.open(url + path) as response:
            return response.geturl(), response.read().decode("utf-8", "replace")

    def post(path, data):
        """The page the post ends on (redirects followed): its path and its HTML."""
        body = urllib.parse.urlencode(data, doseq=True).encode()
        try:
            with opener.open(urllib.request.Request(url + path, data=body)) as response:
                return urllib.parse.urlsplit(response.geturl()).path, response.read().decode("utf-8", "replace")
        except urllib.error.HTTPError:
            return path, ""

    def token(html):
        parser = Forms()
        parser.feed(html)
        return next((f["data"]["csrf_token"] for f in parser.forms if "csrf_token" in f["data"]), "")

    post("/sign-in", {"csrf_token": token(get("/sign-in")[1]), "email": email, "password": password})
    if email.startswith("referrer"):
        sys.path.insert(0, str(ROOT / "loadtests"))
        from journey_plan import DRAFT_ID, PLAN
        csrf = token(get("/")[1])
        # The journey's own redirects, as the load test follows them: each post names its draft.
        path, html = post("/refer/new", {"csrf_token": csrf})
        while path in PLAN:
            draft = DRAFT_ID.search(html)
            after, html = post(path, {"csrf_token": csrf, **PLAN[path], "draft_id": draft.group(1) if draft else ""})
            if after == path:
                sys.exit(f"{email}: the journey stopped at {path}; the scan would miss its later pages")
            path = after
    seen, queue, forms = set(), ["/"] + (list(PLAN) + ["/refer/referral", "/refer/drafts"]
                                         if email.startswith("referrer") else []), {}
    while queue and len(seen) < 80:
        path = queue.pop(0)
        if path in seen or path.startswith(NEVER):
            continue
        seen.add(path)
        try:
            final, html = get(path)
        except urllib.error.HTTPError:
            continue
        parser = Forms()
        parser.feed(html)
        queue.extend(link for link in parser.links if link not in seen)
        page = urllib.parse.urlsplit(final).path
        for form in parser.forms:
            action = form["action"] or page
            if form["method"] != "post" or action.startswith(NEVER):
                continue
            forms.setdefault((action, tuple(sorted(form["data"]))), {"page": page, "action": action,
                                                                      "data": form["data"]})
    references = sorted(p.rsplit("/", 1)[1] for p in seen if p.startswith("/refer/my-referrals/"))
    (out / "reference").write_text(references[0] if references else "NM-2026-00001")
    (out / "cookie").write_text("; ".join(f"{c.name}={c.value}" for c in jar))
    # Journey pages are sent the answers that keep the journey on its path (the first radio button
    # of the danger question would end it), so every later page stays open to the scan.
    if email.startswith("referrer"):
        planned = {**PLAN, "/refer/referral": PLAN.referral}
        for form in forms.values():
            if form["action"] in planned:  # keeping the page's own csrf_token and draft_id
                kept = {name: form["data"][name] for name in ("csrf_token", "draft_id") if name in form["data"]}
                form["data"] = {**kept, **planned[form["action"]]}
    # Forms that end or replace the journey go last, so the others are tested against a live draft.
    last = ("/refer/check", "/refer/disagree", "/refer/referral", "/refer/finish", "/refer/drafts/resume",
            "/refer/new", "/refer/start-again", "/refer/drafts/delete")
    ordered = sorted(forms.values(), key=lambda f: last.index(f["action"]) + 1 if f["action"] in last else 0)
    with (out / "forms.jsonl").open("w") as f:
        for form in ordered:
            f.write(json.dumps(form) + "\n")
    print(f"{email}: {len(seen)} pages, {len(forms)} forms")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], sys.argv[3], Path(sys.argv[4]))
