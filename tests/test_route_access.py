"""Every registered route, for every role and for anonymous, against an explicit table.

A new route without an entry in EXPECTED fails this test: add one line per endpoint.
"""
from __future__ import annotations

import pytest

from conftest import ROLES, sign_in_as
from signpost.extensions import db

WHO = ("anonymous",) + ROLES
SIGN_IN = 302  # anonymous users are sent to sign in


def everyone(status: int) -> dict:
    return {who: status for who in WHO}


def signed_in(status: int = 200) -> dict:
    return {"anonymous": SIGN_IN, **{role: status for role in ROLES}}


def only(*roles: str, status: int = 200) -> dict:
    return {"anonymous": SIGN_IN, **{role: status if role in roles else 403 for role in ROLES}}


# endpoint -> {"path": how to build the URL (optional), METHOD: {who: expected status}}.
# Paths may use {user_id} (the admin's own id) and {govuk} (GOV.UK Frontend's version).
# POSTs are sent empty with CSRF checking off: this table is about who may reach what.
EXPECTED: dict[str, dict] = {
    "static": {"path": "/static/signpost.css", "GET": everyone(200)},
    "govuk_frontend.static": {"path": "/static/govuk-frontend/{govuk}/govuk-frontend.min.css",
                              "GET": everyone(200)},
    "health.healthz": {"GET": everyone(200)},
    "auth.sign_in": {"GET": {"anonymous": 200, **{r: 302 for r in ROLES}},
                     "POST": everyone(200)},  # an empty form shows its errors
    "auth.sign_out": {"POST": everyone(302)},
    "auth.stay_signed_in": {"POST": signed_in(204)},
    "auth.change_password": {"GET": signed_in(200), "POST": signed_in(400)},  # an empty form shows its errors
    "refer.start": {"GET": signed_in(200)},
    "admin.users": {"GET": only("admin")},
    "admin.add_user": {"GET": only("admin"), "POST": only("admin", status=400)},
    # An empty POST keeps every current value (a form field left out is unchanged), so it saves: 302.
    "admin.edit_user": {"path": "/admin/users/{user_id}", "GET": only("admin"), "POST": only("admin", status=302)},
    # {user_id} is the admin's own account: their own password is changed at /account/password (302 there),
    # and an active account is not re-enabled (302 to its page). tests/test_admin_accounts.py covers the rest.
    "admin.reset_password": {"path": "/admin/users/{user_id}/password", "GET": only("admin", status=302),
                             "POST": only("admin", status=302)},
    "admin.enable_user": {"path": "/admin/users/{user_id}/enable", "GET": only("admin", status=302),
                          "POST": only("admin", status=302)},
    "refer.thresholds": {"GET": signed_in(200)},
    # The referral journey: referrers only. With no draft yet, its pages send them to the start page (302).
    "journey.new": {"POST": only("referrer", status=302)},
    "journey.start_again": {"GET": only("referrer", status=302), "POST": only("referrer", status=302)},
    "journey.drafts": {"GET": only("referrer")},
    "journey.resume": {"POST": only("referrer", status=404)},  # no such draft
    "journey.delete_draft": {"POST": only("referrer", status=404)},
    "journey.question": {"path": "/refer/about-you", "GET": only("referrer", status=302),
                         "POST": only("referrer", status=302)},
    "journey.check": {"GET": only("referrer", status=302), "POST": only("referrer", status=302)},
    "journey.recommendation": {"GET": only("referrer", status=302)},
    "journey.danger_call": {"GET": only("referrer", status=302)},
    "journey.finish": {"POST": only("referrer", status=302)},
    "journey.override": {"GET": only("referrer", status=302), "POST": only("referrer", status=302)},
    "journey.referral": {"GET": only("referrer", status=302), "POST": only("referrer", status=302)},
    "journey.early_help_request": {"GET": only("referrer", status=302), "POST": only("referrer", status=302)},
    "journey.send": {"path": "/refer/send/referral", "GET": only("referrer", status=302),
                     "POST": only("referrer", status=302)},
    "journey.confirmation": {"GET": only("referrer", status=302)},
    "journey.summary": {"GET": only("referrer", status=302)},
    "journey.my_referrals": {"GET": only("referrer")},
    # The JSON API: no session needed (stateless, rate limited); empty bodies are 400s.
    "api.assess": {"POST": everyone(400)},
    "api.threshold_current": {"GET": everyone(200)},
    "api.threshold_version": {"path": "/api/v1/thresholds/northmere-2024-09", "GET": everyone(200)},
    "api.openapi_document": {"GET": everyone(200)},
    # The thresholds guide (every signed-in user) and the policy pages (policy leads and admins).
    "guide.index": {"GET": signed_in(200)},
    "guide.version": {"path": "/guide/northmere-2024-09", "GET": signed_in(200)},
    "policy.index": {"GET": only("policy_lead", "admin")},
    "policy.versions": {"GET": only("policy_lead", "admin")},
    "policy.compare": {"GET": only("policy_lead", "admin")},
    "policy.drafts": {"GET": only("policy_lead", "admin")},
    "policy.new_draft": {"POST": only("policy_lead", "admin", status=302)},
    # No draft 999: 404 for those allowed in.
    **{endpoint: {"path": path, **{method: only("policy_lead", "admin", status=404) for method in methods}}
       for endpoint, path, methods in (
           ("policy.draft", "/policy/drafts/999", ("GET",)),
           ("policy.download", "/policy/drafts/999/draft.yaml", ("GET",)),
           ("policy.upload", "/policy/drafts/999/upload", ("POST",)),
           ("policy.discard", "/policy/drafts/999/discard", ("POST",)),
           ("policy.edit_concern", "/policy/drafts/999/concerns/x", ("GET", "POST")),
           ("policy.add_concern", "/policy/drafts/999/concerns/new", ("GET", "POST")),
           ("policy.retire_concern", "/policy/drafts/999/concerns/x/retire", ("GET", "POST")),
           ("policy.edit_rule", "/policy/drafts/999/rules/x", ("GET", "POST")),
           ("policy.edit_contact", "/policy/drafts/999/contacts/front_door", ("GET", "POST")),
           ("policy.edit_route", "/policy/drafts/999/routes/universal", ("GET", "POST")),
           ("policy.edit_details", "/policy/drafts/999/details", ("GET", "POST")),
           ("policy.simulate", "/policy/drafts/999/simulate", ("GET",)),
           ("policy.publish", "/policy/drafts/999/publish", ("GET", "POST")),
           ("policy.withdraw", "/policy/versions/no-such-version/withdraw", ("GET", "POST")))},
    "journey.my_referral": {"path": "/refer/my-referrals/NM-2026-00001", "GET": only("referrer", status=404)},
    "journey.history_summary": {"path": "/refer/my-referrals/summary/1", "GET": only("referrer", status=404)},
    # The front door (issue 9). No items exist here, so an item's pages are 404s (audited) for the team.
    "frontdoor.index": {"GET": only("front_door", "admin")},
    "frontdoor.item": {"path": "/front-door/items/NM-2026-00001", "GET": only("front_door", status=404)},
    "frontdoor.take": {"path": "/front-door/items/NM-2026-00001/take", "POST": only("front_door", status=404)},
    "frontdoor.allocate": {"path": "/front-door/items/NM-2026-00001/allocate", "POST": only()},  # managers only
    "frontdoor.decide": {"path": "/front-door/items/NM-2026-00001/decide", "POST": only("front_door", status=404)},
    "frontdoor.ask_for_advice": {"GET": only("referrer", status=302), "POST": only("referrer", status=404)},
    "frontdoor.refer_after_advice": {"path": "/front-door/ask-for-advice/NM-0000-00000/refer",
                                     "POST": only("referrer", status=404)},  # no such request for advice
    "frontdoor.contacts": {"GET": only("front_door")},
    "frontdoor.new_contact": {"GET": only("front_door"), "POST": only("front_door", status=400)},
    "frontdoor.import_contacts": {"GET": only("front_door"), "POST": only("front_door", status=400)},
    "frontdoor.example_csv": {"GET": only("front_door")},
    "frontdoor.audit": {"GET": only("admin"), "POST": only("admin")},  # and front door managers (tests/test_frontdoor.py)
    "frontdoor.export": {"GET": only("front_door", "policy_lead")},
    "frontdoor.team": {"GET": only("admin")},
    "frontdoor.set_manager": {"path": "/front-door/team/{user_id}", "POST": only("admin", status=404)},
    "reports.index": {"GET": only("policy_lead", "front_door", "admin")},
    "reports.download": {"path": "/reports/monthly.csv", "GET": only("policy_lead", "front_door", "admin")},
}


@pytest.fixture
def app_settings():
    return {"WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False}


def rules(app):
    return [rule for rule in app.url_map.iter_rules()]


def test_every_route_has_an_entry(app):
    missing = sorted({rule.endpoint for rule in rules(app)} - set(EXPECTED))
    assert not missing, f"add these endpoints to EXPECTED in {__file__}: {missing}"
    stale = sorted(set(EXPECTED) - {rule.endpoint for rule in rules(app)})
    assert not stale, f"EXPECTED lists endpoints that no longer exist: {stale}"


def test_every_route_for_every_role(app, users):
    failures = []
    for rule in rules(app):
        entry = EXPECTED[rule.endpoint]
        path = entry.get("path", rule.rule).format(user_id=users["admin"].id,
                                                   govuk=app.config["GOVUK_FRONTEND_VERSION"])
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            assert method in entry, f"{rule.endpoint}: no expected statuses for {method}"
            for who in WHO:
                client = app.test_client()
                if who != "anonymous":
                    db.session.refresh(users[who])  # sign-out bumps the session version
                    sign_in_as(client, users[who])
                response = client.open(path, method=method, data={})
                expected = entry[method][who]
                if response.status_code != expected:
                    failures.append(f"{method} {path} as {who}: {response.status_code}, expected {expected}")
                elif expected == SIGN_IN and who == "anonymous" and rule.endpoint != "auth.sign_out":
                    if response.headers["Location"] != "/sign-in":
                        failures.append(f"{method} {path} as anonymous went to {response.headers['Location']}")
    assert not failures, "\n".join(failures)


def test_unknown_urls_are_404_for_everyone(app, users):
    for who in WHO:
        client = app.test_client()
        if who != "anonymous":
            sign_in_as(client, users[who])
        assert client.get("/no-such-page").status_code == 404
        assert client.get("/admin/users/999999").status_code == (404 if who == "admin" else
                                                                 302 if who == "anonymous" else 403)


# What a user whose password someone else set (must_change_password) may still reach; every other
# route sends them to change it. Spelt out here, not imported, so a wider list in the app fails.
OPEN_WITH_A_TEMPORARY_PASSWORD = {"static", "govuk_frontend.static", "health.healthz", "auth.change_password",
                                  "auth.sign_out", "auth.stay_signed_in"}


@pytest.mark.parametrize("role", ROLES)
def test_every_route_for_a_user_who_must_change_their_password(app, users, role):
    from signpost import store
    user = users[role]
    store.set_password(user, "a temporary password from the admin", actor="cli")  # an operator's reset
    assert user.must_change_password
    failures = []
    for rule in rules(app):
        entry = EXPECTED[rule.endpoint]
        path = entry.get("path", rule.rule).format(user_id=users["admin"].id,
                                                   govuk=app.config["GOVUK_FRONTEND_VERSION"])
        open_to_them = rule.endpoint in OPEN_WITH_A_TEMPORARY_PASSWORD or rule.endpoint.startswith("api.")
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            client = app.test_client()
            db.session.refresh(user)  # sign-out bumps the session version
            sign_in_as(client, user)
            response = client.open(path, method=method, data={})
            expected = entry[method][role] if open_to_them else SIGN_IN
            where = response.headers.get("Location")
            if response.status_code != expected:
                failures.append(f"{method} {path}: {response.status_code}, expected {expected}")
            elif not open_to_them and where != "/account/password":
                failures.append(f"{method} {path} went to {where}, not /account/password")
    assert not failures, "\n".join(failures)
