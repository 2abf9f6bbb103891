"""Signing in and out: throttled per account and per address, audited, no user enumeration.

Every failure shows the same message (but an expired temporary password, once the right one is given);
only failed attempts count towards the limits.
"""
from __future__ import annotations

import time

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length, ValidationError

from .. import passwords, store
from ..extensions import limiter
from .journey import carry_on_with
from .security import safe_return_path


def strip(value):
    return value.strip() if isinstance(value, str) else value


bp = Blueprint("auth", __name__)

BAD_SIGN_IN = "Enter a correct email address and password"
# Said only to someone who gave the right password: the wrong one gets BAD_SIGN_IN, as any other.
EXPIRED = "Your temporary password has expired. Ask an administrator for a new one"


class SignInForm(FlaskForm):
    email = EmailField("Email address", filters=[strip], validators=[
        DataRequired("Enter your email address"), Length(max=254, message="Enter a correct email address")])
    password = PasswordField("Password", validators=[
        DataRequired("Enter your password"), Length(max=passwords.MAX_LENGTH, message=BAD_SIGN_IN)])


def _account_key(email: str | None = None) -> str:
    return "account:" + store.normalise_email(request.form.get("email", "") if email is None else email)[:254]


def _own_account_key() -> str:
    """The signed-in user's account, counted with failed sign-ins: guessing the current password on
    the change-password page is no easier than guessing it at sign-in."""
    return _account_key(getattr(current_user, "email", ""))


def _failed(response) -> bool:
    # A successful sign-in redirects; anything else (wrong password, bad form) counts.
    return response.status_code != 302


def _audit_throttled(request_limit) -> None:
    """on_breach: the limit refused this attempt. Audited once per account (or address) per limit window:
    the first refusal in a window takes the one hit a 1-per-window limit of its own allows (counted where
    the sign-in limits are, so shared by every worker), and later ones in that window write nothing."""
    limit = request_limit.limit
    once = type(limit)(1, limit.multiples)
    if not request_limit.limiter.hit(once, "audited", *request_limit.request_args):
        return
    if request.endpoint == "auth.change_password":
        user = current_user._get_current_object()
        email, page = user.email, "change_password"
    else:
        email, page = request.form.get("email", ""), "sign_in"
        user = store.find_user(email)
    which = "account" if request_limit.shared else "address"  # the account limit is the shared one
    store.record_sign_in_throttled(email, user, which, page=page)


@bp.route("/sign-in", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["SIGN_IN_LIMIT_PER_ADDRESS"], methods=["POST"],
               deduct_when=_failed, scope="sign-in-address", on_breach=_audit_throttled)
@limiter.shared_limit(lambda: current_app.config["SIGN_IN_LIMIT_PER_ACCOUNT"], "sign-in-account", methods=["POST"],
                      key_func=_account_key, deduct_when=_failed,  # shared: changing a password counts too
                      on_breach=_audit_throttled)
def sign_in():
    if current_user.is_authenticated and request.method == "GET":
        return redirect(url_for("refer.start"))
    form = SignInForm()
    if form.validate_on_submit():
        user = store.find_user(form.email.data)
        matches = passwords.verify(user.password_hash if user else None, form.password.data)
        expired = matches and user.temporary_password_expired(current_app.config["TEMPORARY_PASSWORD_DAYS"])
        if matches and user.active and not expired:
            store.record_sign_in(user, form.password.data)
            return_to = safe_return_path(session.get("return_to"))
            return_draft = session.get("return_draft")
            session.clear()  # a fresh session at sign-in: no fixation
            login_user(user)
            now = int(time.time())
            session["last_seen"] = now
            session["signed_in_at"] = now
            carry_on_with(return_draft)
            if user.must_change_password:
                # Someone else chose this password: nothing else opens until its owner replaces it
                # (security.MUST_CHANGE_PASSWORD_ENDPOINTS); then on to where they were going.
                if return_to:
                    session["return_to"] = return_to
                return redirect(url_for("auth.change_password"))
            return redirect(return_to or url_for("refer.start"))
        if matches and user.active:  # the right password, but too old to use: they need a new one
            store.record_failed_sign_in(form.email.data, user, "temporary_password_expired")
            form.password.errors = [EXPIRED]
            return render_template("auth/sign_in.html", form=form)
        reason = "disabled" if matches else ("wrong_password" if user else "unknown_email")
        store.record_failed_sign_in(form.email.data, user, reason)
        form.email.errors = [BAD_SIGN_IN]
    return render_template("auth/sign_in.html", form=form)


@bp.post("/sign-out")
def sign_out():
    if current_user.is_authenticated:
        store.record_sign_out(current_user._get_current_object())
        logout_user()
    session.clear()
    flash("You have signed out.", "success")
    return redirect(url_for("auth.sign_in"))


@bp.post("/account/stay-signed-in")
def stay_signed_in():
    """The idle-timeout warning's "Stay signed in" (static/timeout.js): a signed-in request like any
    other, so the session's idle clock starts again (security._idle_and_access); nothing to show.
    Signed out already, it is sent to sign in, as any page is."""
    return "", 204


WRONG_CURRENT = "Your current password is not correct"


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField("Current password", validators=[
        DataRequired("Enter your current password"), Length(max=passwords.MAX_LENGTH, message=WRONG_CURRENT)])
    new_password = PasswordField("New password", validators=[DataRequired("Enter a new password")])
    confirm_password = PasswordField("Confirm new password", validators=[DataRequired("Enter your new password again")])

    def validate_new_password(self, field):
        problem = passwords.length_problem(field.data or "")
        if problem:
            raise ValidationError(problem)
        if field.data == self.current_password.data:
            raise ValidationError("Your new password must be different from your current password")

    def validate_confirm_password(self, field):
        if self.new_password.data and field.data != self.new_password.data:
            raise ValidationError("Enter the same new password twice")


@bp.route("/account/password", methods=["GET", "POST"])
@limiter.shared_limit(lambda: current_app.config["SIGN_IN_LIMIT_PER_ACCOUNT"], "sign-in-account", methods=["POST"],
                      key_func=_own_account_key, deduct_when=lambda response: g.get("wrong_password", False),
                      on_breach=_audit_throttled)
def change_password():
    """Anyone signed in changes their own password (an administrator's temporary one, say): it ends
    every other session of theirs; this one carries on. A temporary one must be changed before
    anything else (the new one must differ from it: validate_new_password)."""
    user = current_user._get_current_object()
    form = ChangePasswordForm()
    form.new_password.description = f"At least {current_app.config['PASSWORD_MIN_LENGTH']} characters"
    if form.validate_on_submit():
        if passwords.verify(user.password_hash, form.current_password.data):
            store.set_password(user, form.new_password.data, actor=user)
            login_user(user)  # the new session version: every other session of theirs has ended
            flash("Your password has been changed. You have been signed out everywhere else.", "success")
            return redirect(safe_return_path(session.pop("return_to", None)) or url_for("refer.start"))
        g.wrong_password = True  # only a wrong current password counts towards the limit, not a typing slip
        store.record_failed_password_change(user, "wrong_password")
        form.current_password.errors = [WRONG_CURRENT]
    status = 400 if form.is_submitted() and form.errors else 200
    return render_template("auth/change_password.html", form=form, temporary=user.must_change_password), status
