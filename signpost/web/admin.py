"""Administrators list, add, disable, re-enable and re-role user accounts, and reset their passwords.

Every change goes through store (audited); an admin cannot lock themselves out, and the service is
never left without an active administrator. A password set here is temporary: it must be changed at
the next sign-in, and stops working after TEMPORARY_PASSWORD_DAYS.
"""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import EmailField, PasswordField, RadioField, SelectChoice, StringField
from wtforms.validators import DataRequired, Email, Length, ValidationError

from .. import passwords, store
from ..extensions import db
from ..models import ROLE_NAMES, ROLES, User
from .security import role_required


def strip(value):
    return value.strip() if isinstance(value, str) else value


bp = Blueprint("admin", __name__, url_prefix="/admin")

ROLE_CHOICES = [SelectChoice(role, ROLE_NAMES[role]) for role in ROLES]


# Fields are made by functions so each form lists them in page order (the error summary follows it).
def _name():
    return StringField("Full name", validators=[DataRequired("Enter the person's full name"), Length(max=200)])


def _organisation():
    return StringField("Organisation", validators=[Length(max=200)],
                       description="For example, the school, practice or team")


def _role():
    return RadioField("Role", choices=ROLE_CHOICES, validators=[DataRequired("Select a role")])


def _long_enough(form, field):
    problem = passwords.length_problem(field.data or "")
    if problem:
        raise ValidationError(problem)


def _temporary_password():
    return PasswordField("Temporary password", validators=[DataRequired("Enter a temporary password"), _long_enough])


class TemporaryPasswordForm(FlaskForm):
    """A password an administrator chooses for someone else (NewUserForm's too): the hint gives today's settings."""
    password = _temporary_password()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        config = current_app.config
        days = config["TEMPORARY_PASSWORD_DAYS"]
        self.password.description = (
            f"At least {config['PASSWORD_MIN_LENGTH']} characters. Give it to the person in a safe way, not by "
            f"email. It stops working after {days} day{'s' if days != 1 else ''}: they must sign in before "
            "then and choose their own.")


class NewUserForm(TemporaryPasswordForm):
    email = EmailField("Email address", filters=[strip], validators=[
        DataRequired("Enter an email address"), Length(max=254),
        Email("Enter an email address in the correct format, like name@example.org",
              check_deliverability=False)])
    name = _name()
    organisation = _organisation()
    role = _role()
    password = _temporary_password()  # again, so that it comes last on the page and in the error summary

    def validate_email(self, field):
        if store.find_user(field.data) is not None:
            raise ValidationError("There is already an account with this email address")


class EditUserForm(FlaskForm):
    name = _name()
    organisation = _organisation()
    role = _role()
    active = RadioField("Account status", choices=[SelectChoice("active", "Active: can sign in"),
                                                   SelectChoice("disabled", "Disabled: cannot sign in")],
                        validators=[DataRequired("Select an account status")])


@bp.get("/users")
@role_required("admin")
def users():
    people = db.session.scalars(select(User).order_by(User.active.desc(), User.role, User.email)).all()
    return render_template("admin/users.html", users=people, role_names=ROLE_NAMES,
                           temporary_days=current_app.config["TEMPORARY_PASSWORD_DAYS"])


def refused(form) -> int:
    """400 for a form sent back with errors (as the front door's and policy's forms answer), else 200."""
    return 400 if form.is_submitted() and form.errors else 200


@bp.route("/users/new", methods=["GET", "POST"])
@role_required("admin")
def add_user():
    form = NewUserForm()
    if form.validate_on_submit():
        try:
            user = store.create_user(form.email.data, form.name.data, form.role.data, form.password.data,
                                     form.organisation.data or "", must_change_password=True)
        except store.StoreError as exc:
            form.email.errors.append(str(exc).capitalize())
        else:
            flash(f"Account added for {user.email}.", "success")
            return redirect(url_for("admin.users"))
    return render_template("admin/add_user.html", form=form), refused(form)


def _user_or_404(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    return user


# What an administrator changed on an account's page, in the words the message after saving uses.
CHANGE_WORDS = {"name": "the name", "organisation": "the organisation", "role": "the role"}


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@role_required("admin")
def edit_user(user_id: int):
    user = _user_or_404(user_id)
    form = EditUserForm(data={"name": user.name, "organisation": user.organisation, "role": user.role,
                              "active": "active" if user.active else "disabled"})
    if not user.active:
        del form.active  # re-enabling needs a new password: its own page (enable_user)
    if form.validate_on_submit():
        active = form.active.data == "active" if form.active else False
        if user.id == current_user.id and not active:  # beside the field that asked for it
            form.active.errors.append("You cannot disable your own account; ask another administrator")
        if user.id == current_user.id and form.role.data != "admin":
            form.role.errors.append("You cannot remove your own administrator role; ask another administrator")
        if not (form.role.errors or form.active and form.active.errors):
            try:
                changed = store.update_user(user, name=form.name.data.strip(),
                                            organisation=(form.organisation.data or "").strip(),
                                            role=form.role.data, active=active)
            except store.LastAdministrator as exc:  # another administrator's change got there first
                field = form.active if form.role.data == "admin" and form.active else form.role
                field.errors.append(str(exc).capitalize())
            except store.ReenableNeedsPassword:  # another administrator disabled it after this page was shown
                flash(f"{user.email} has been disabled by another administrator. Nothing was saved: to re-enable "
                      "the account, set a new temporary password.", "important")
                return redirect(url_for("admin.enable_user", user_id=user.id))
            else:
                if changed.get("active") == [True, False]:
                    others = [CHANGE_WORDS.get(field, field) for field in changed if field not in ("active", "manager")]
                    flash(f"{user.email} has been disabled and signed out everywhere. To let them back in, re-enable "
                          "the account with a new temporary password."
                          + (f" Also saved: {', '.join(others)}." if others else ""), "success")
                else:
                    flash(f"Saved {user.email}." if changed else f"No changes for {user.email}.", "success")
                return redirect(url_for("admin.users"))
    return render_template("admin/edit_user.html", form=form, user=user), refused(form)


@bp.route("/users/<int:user_id>/password", methods=["GET", "POST"])
@role_required("admin")
def reset_password(user_id: int):
    """Set a temporary password for someone else (their own: Change your password, which asks for the
    current one). It ends their sessions and must be changed at their next sign-in."""
    user = _user_or_404(user_id)
    if user.id == current_user.id:
        return redirect(url_for("auth.change_password"))
    if not user.active:
        return redirect(url_for("admin.enable_user", user_id=user.id))  # a new password and re-enabling, together
    form = TemporaryPasswordForm()
    if form.validate_on_submit():
        store.set_password(user, form.password.data, actor=current_user._get_current_object())
        flash(f"{user.email} has a new temporary password and has been signed out. They must change it when "
              "they next sign in.", "success")
        return redirect(url_for("admin.users"))
    return render_template("admin/reset_password.html", form=form, user=user), refused(form)


@bp.route("/users/<int:user_id>/enable", methods=["GET", "POST"])
@role_required("admin")
def enable_user(user_id: int):
    """Re-enable a disabled account with a new temporary password: it may have been disabled because it was
    compromised, so the old password does not open it again."""
    user = _user_or_404(user_id)
    if user.active:
        return redirect(url_for("admin.edit_user", user_id=user.id))
    form = TemporaryPasswordForm()
    if form.validate_on_submit():
        try:
            store.enable_user(user, form.password.data, actor=current_user._get_current_object())
        except store.AlreadyActive:  # another administrator re-enabled it meanwhile, with their own password
            flash(f"{user.email} had already been re-enabled by another administrator. Nothing was changed.",
                  "important")
        except store.LastAdministrator as exc:  # the maker has just stopped being an administrator
            form.password.errors.append(str(exc).capitalize())
            return render_template("admin/enable_user.html", form=form, user=user), refused(form)
        else:
            flash(f"{user.email} can sign in again, with the new temporary password. They must change it when "
                  "they sign in.", "success")
        return redirect(url_for("admin.users"))
    return render_template("admin/enable_user.html", form=form, user=user), refused(form)
