"""Security headers on every response, CSRF on every form, cookie flags, caching.

CSP has no unsafe-inline: the only inline scripts carry this response's nonce.
"""
from __future__ import annotations

import re

import pytest

from conftest import CSRF_RE, PASSWORD, make_app, sign_in_as, submit


def csp(response) -> dict[str, str]:
    policy = response.headers["Content-Security-Policy"]
    return {part.split()[0]: part.split(" ", 1)[1] if " " in part else "" for part in policy.split("; ")}


def pages(app, client, referrer, admin):
    """One response of each kind: HTML signed out and in, JSON, static, an error, a redirect."""
    return {
        "sign-in": client.get("/sign-in"),
        "start": referrer.get("/"),
        "admin": admin.get("/admin/users"),
        "healthz": client.get("/healthz"),
        "static": client.get("/static/signpost.css?v=0123456789ab"),
        "static-unversioned": client.get("/static/signpost.css"),
        "govuk": client.get(f"/static/govuk-frontend/{app.config['GOVUK_FRONTEND_VERSION']}/govuk-frontend.min.js"),
        "404": client.get("/nowhere"),
        "403": referrer.get("/admin/users"),
        "redirect": client.get("/"),
    }


def test_headers_on_every_kind_of_response(app, client, referrer, admin):
    for name, response in pages(app, client, referrer, admin).items():
        policy = csp(response)
        assert policy["frame-ancestors"] == "'none'", name
        assert policy["default-src"] == "'self'", name
        assert policy["object-src"] == "'none'" and policy["base-uri"] == "'none'", name
        header = response.headers["Content-Security-Policy"]
        assert "unsafe-inline" not in header and "unsafe-eval" not in header, name
        assert response.headers["X-Content-Type-Options"] == "nosniff", name
        assert response.headers["Referrer-Policy"] == "same-origin", name
        assert response.headers["X-Frame-Options"] == "DENY", name
        assert "Strict-Transport-Security" not in response.headers, name  # plain HTTP


def test_signing_in_over_https_works_with_the_referrer_browsers_send(app, users):
    """Behind an HTTPS proxy, CSRF checking also wants the form's page as Referer. Browsers send it
    to the same site under Referrer-Policy: same-origin; under no-referrer they sent none, and every
    form, sign-in first, was refused."""
    site = "https://signpost.example.gov.uk"
    client = app.test_client()
    page = client.get("/sign-in", base_url=site)
    assert page.headers["Referrer-Policy"] == "same-origin"
    match = CSRF_RE.search(page.text)
    form = {"csrf_token": match.group(1) or match.group(2), "email": "referrer@example.org", "password": PASSWORD}
    refused = client.post("/sign-in", base_url=site, data=form)  # what no-referrer made browsers send
    assert refused.status_code == 400
    response = client.post("/sign-in", base_url=site, data=form, headers={"Referer": f"{site}/sign-in"})
    assert response.status_code == 302 and response.location == "/"
    assert client.get("/", base_url=site).status_code == 200
    elsewhere = client.post("/refer/new", base_url=site, data={"csrf_token": form["csrf_token"]},
                            headers={"Referer": "https://elsewhere.example.com/"})
    assert elsewhere.status_code == 400  # another site's page is refused as before


def test_no_store_on_pages_and_long_cache_on_assets(app, client, referrer, admin):
    responses = pages(app, client, referrer, admin)
    for name in ("sign-in", "start", "admin", "healthz", "404", "403", "redirect"):
        assert responses[name].headers["Cache-Control"] == "no-store", name
    for name in ("static", "govuk"):
        assert responses[name].status_code == 200, name
        assert responses[name].headers["Cache-Control"] == "public, max-age=31536000, immutable", name
        assert "Set-Cookie" not in responses[name].headers, name
    # Without its version in the URL an asset could change under the same address: not cached.
    assert responses["static-unversioned"].headers["Cache-Control"] == "no-store"


def test_asset_urls_change_when_the_asset_does(app, referrer):
    html = referrer.get("/").get_data(as_text=True)
    assert re.search(r'href="/static/signpost\.css\?v=[0-9a-f]{12}"', html)
    assert f'/static/govuk-frontend/{app.config["GOVUK_FRONTEND_VERSION"]}/govuk-frontend.min.css' in html


def test_inline_scripts_carry_the_nonce_of_their_response(client, referrer):
    for response in (client.get("/sign-in"), referrer.get("/")):
        nonce = re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"]).group(1)
        html = response.get_data(as_text=True)
        scripts = re.findall(r"<script([^>]*)>", html)
        assert scripts, "GOV.UK Frontend's js-enabled snippet and module loader are expected"
        for attributes in scripts:
            if "src=" not in attributes:
                assert f'nonce="{nonce}"' in attributes, attributes
        assert 'type="module"' in html and "initAll" in html
    first = csp(client.get("/sign-in"))["script-src"]
    second = csp(client.get("/sign-in"))["script-src"]
    assert first != second  # a new nonce for every response


def test_no_inline_styles_or_handlers(referrer, admin):
    for response in (referrer.get("/"), admin.get("/admin/users"), admin.get("/admin/users/new")):
        html = response.get_data(as_text=True)
        assert "<style" not in html
        assert not re.search(r"\son[a-z]+=", html)
        assert " style=" not in html


def test_hsts_when_served_over_https(client):
    response = client.get("/sign-in", base_url="https://signpost.example")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_hsts_behind_a_trusted_proxy(database_url):
    app = make_app(database_url, TRUSTED_PROXIES=1)
    with app.app_context():
        response = app.test_client().get("/sign-in", headers={"X-Forwarded-Proto": "https"})
        assert "Strict-Transport-Security" in response.headers
        from signpost.extensions import db
        db.engine.dispose()


def session_cookie(response) -> str:
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("signpost_session=")]
    assert cookies, "no session cookie set"
    return cookies[0]


def test_session_cookie_flags_in_development(client):
    cookie = session_cookie(client.get("/sign-in"))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # make run serves plain http://127.0.0.1


def test_session_cookie_is_secure_in_production(database_url):
    from signpost import settings
    config = settings.from_environment({"SIGNPOST_ENV": "production"})
    assert config["SESSION_COOKIE_SECURE"] and config["REMEMBER_COOKIE_SECURE"]
    app = make_app(database_url, ENVIRONMENT="production", SESSION_COOKIE_SECURE=True,
                   BASE_URL="https://signpost.example")
    with app.app_context():
        cookie = session_cookie(app.test_client().get("/sign-in", base_url="https://signpost.example"))
        assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
        from signpost.extensions import db
        db.engine.dispose()


@pytest.mark.parametrize("path", ["/sign-in", "/sign-out", "/admin/users/new"])
def test_post_without_csrf_token_is_a_400_page(admin, path):
    response = admin.post(path, data={"email": "x@example.org", "password": "x", "name": "x", "role": "admin"})
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "The form had expired" in html and "If a child is in immediate danger, call 999" in html


def test_post_with_a_forged_token_is_rejected(admin, users):
    response = admin.post("/admin/users/new", data={"csrf_token": "forged", "email": "evil@example.org",
                                                     "name": "Evil", "role": "admin", "password": "x" * 20})
    assert response.status_code == 400
    from signpost import store
    assert store.find_user("evil@example.org") is None


def test_every_form_has_a_csrf_token(client, referrer, admin, users):
    for c, path in ((client, "/sign-in"), (admin, "/admin/users/new"), (admin, f"/admin/users/{users['referrer'].id}"),
                    (referrer, "/")):
        html = c.get(path).get_data(as_text=True)
        forms = re.findall(r"<form([^>]*)>(.*?)</form>", html, re.S)
        assert any('method="post"' in tag for tag, _body in forms), path
        for tag, body in forms:
            if 'method="post"' in tag:
                assert 'name="csrf_token"' in body, (path, body[:200])


def test_anonymous_post_is_sent_to_sign_in_not_shown_csrf_error(client):
    response = client.post("/admin/users/new", data={})
    assert response.status_code == 302 and response.headers["Location"] == "/sign-in"


def test_nothing_secret_in_the_session_cookie(client, users):
    submit(client, "/sign-in", {"email": "referrer@example.org", "password": "correct horse battery staple"})
    with client.session_transaction() as session:
        assert set(session) <= {"_user_id", "_fresh", "_id", "csrf_token", "last_seen", "signed_in_at",
                                "return_to", "_flashes"}
        assert "correct horse" not in str(dict(session))


def ticking_csrf_clock(monkeypatch) -> None:
    """Flask-WTF's tokens signed as if 100 seconds passed between one signing and the next."""
    import itertools

    from itsdangerous import TimestampSigner, URLSafeTimedSerializer
    clock = itertools.count(1_800_000_000, 100)

    class Ticking(TimestampSigner):
        def get_timestamp(self):
            return next(clock)

    class Serializer(URLSafeTimedSerializer):
        default_signer = Ticking
    monkeypatch.setattr("flask_wtf.csrf.URLSafeTimedSerializer", Serializer)


def test_a_session_keeps_its_signed_csrf_token_and_the_kept_token_is_accepted(app, referrer, users, monkeypatch):
    """With no time limit on tokens, the token signed for a session is given again (not re-signed
    with a new time on every page), and it still sends a form; another session's is refused."""
    ticking_csrf_clock(monkeypatch)
    tokens = [CSRF_RE.search(referrer.get(path).get_data(as_text=True)) for path in ("/", "/refer/my-referrals", "/")]
    tokens = {next(t for t in match.groups() if t) for match in tokens}
    assert len(tokens) == 1
    response = referrer.post("/refer/new", data={"csrf_token": tokens.pop()})
    assert response.status_code == 302 and response.location == "/refer/danger"
    other = app.test_client()
    sign_in_as(other, users["referrer"])
    other_token = next(t for t in CSRF_RE.search(other.get("/").get_data(as_text=True)).groups() if t)
    assert referrer.post("/refer/new", data={"csrf_token": other_token}).status_code == 400


def test_with_a_time_limit_on_csrf_tokens_each_page_signs_its_own(database_url, users, monkeypatch):
    ticking_csrf_clock(monkeypatch)
    timed = make_app(database_url, WTF_CSRF_TIME_LIMIT=3600)
    with timed.app_context():
        client = timed.test_client()
        sign_in_as(client, users["referrer"])
        tokens = {next(t for t in CSRF_RE.search(client.get("/").get_data(as_text=True)).groups() if t)
                  for _ in range(2)}
        assert len(tokens) == 2
        assert "signpost_signed_csrf" not in timed.extensions
