"""Administrators list, add, disable and re-role user accounts.

Every change goes through store (audited); an admin cannot lock themselves out, and the service is
never left without an active administrator. A password set here must be changed at first sign-in.
"""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
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


class NewUserForm(FlaskForm):
    email = EmailField("Email address", filters=[strip], validators=[
        DataRequired("Enter an email address"), Length(max=254),
        Email("Enter an email address in the correct format, like name@example.org",
              check_deliverability=False)])
    name = _name()
    organisation = _organisation()
    role = _role()
    password = PasswordField("Temporary password", description="At least 12 characters. Give it to the "
                             "person in a safe way, not by email.",
                             validators=[DataRequired("Enter a temporary password")])

    def validate_password(self, field):
        problem = passwords.length_problem(field.data or "")
        if problem:
            raise ValidationError(problem)

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
    return render_template("admin/users.html", users=people, role_names=ROLE_NAMES)


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


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@role_required("admin")
def edit_user(user_id: int):
    user = db.session.get(User, user_id)
    if user is None:
        abort(404)
    form = EditUserForm(data={"name": user.name, "organisation": user.organisation, "role": user.role,
                              "active": "active" if user.active else "disabled"})
    if form.validate_on_submit():
        active = form.active.data == "active"
        if user.id == current_user.id and not active:  # beside the field that asked for it
            form.active.errors.append("You cannot disable your own account; ask another administrator")
        if user.id == current_user.id and form.role.data != "admin":
            form.role.errors.append("You cannot remove your own administrator role; ask another administrator")
        if not (form.active.errors or form.role.errors):
            try:
                changed = store.update_user(user, name=form.name.data.strip(),
                                            organisation=(form.organisation.data or "").strip(),
                                            role=form.role.data, active=active)
            except store.LastAdministrator as exc:  # another administrator's change got there first
                (form.role if form.role.data != "admin" else form.active).errors.append(str(exc).capitalize())
            else:
                flash(f"Saved {user.email}." if changed else f"No changes for {user.email}.", "success")
                return redirect(url_for("admin.users"))
    return render_template("admin/edit_user.html", form=form, user=user), refused(form)
