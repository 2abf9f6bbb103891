"""Policy leads' pages: versions and their differences, drafts, simulation and publishing.

Views parse a form, change the draft's YAML through signpost.policy, check it, and save
through signpost.store.policy; nothing here changes what a referrer sees until publishing.
"""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from flask import (Blueprint, Response, abort, current_app, flash, redirect, render_template, request,
                   url_for)
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import (BooleanField, FileField, HiddenField, IntegerField, RadioField, StringField, TextAreaField)
from wtforms.validators import DataRequired, Email, InputRequired, Length, NumberRange, Optional, Regexp, ValidationError

from .. import policy, values, workdays
from ..content import current_library, current_version_or_none, forget_published
from ..extensions import db
from ..models import PublishedThreshold, ThresholdDraft
from ..simulate import simulate as run_simulation
from ..store import policy as store
from ..thresholds.diff import diff as diff_versions
from ..thresholds.schema import DIALLABLE, TELLING_FLAGS
from ..values import OUTCOME_NAMES
from .errors import size_limit
from .guide import ROUTE_NAMES, URGENCY_NAMES, urgency_of
from .security import role_required

bp = Blueprint("policy", __name__, url_prefix="/policy")
POLICY_ROLES = ("policy_lead", "admin")


@bp.before_request
@role_required(*POLICY_ROLES)
def _policy_only():
    return None


def _today() -> dt.date:
    return values.uk_today()


def _base_text(version) -> str:
    path = Path(version.path)
    if path.is_file():
        return path.read_text(encoding="utf-8")
    row = db.session.get(PublishedThreshold, version.id)
    if row is None:
        abort(404)
    return row.content


def _draft(draft_id: int) -> ThresholdDraft:
    draft = db.session.get(ThresholdDraft, draft_id)
    if draft is None:
        abort(404)
    return draft


def _editable_draft(draft_id: int) -> ThresholdDraft:
    """The draft, if it can still be changed; a published one sends the user back to it."""
    draft = _draft(draft_id)
    if draft.published_id:
        flash(f"This draft was published as {draft.published_id}: start a new draft to change it.")
        abort(redirect(url_for("policy.draft", draft_id=draft.id)))
    return draft


class DraftForm(FlaskForm):
    """A form that changes a draft: it carries the hash of the draft's text as the page showed it, and
    the change is refused if the draft has changed since (someone else saved or published it)."""
    draft_hash = HiddenField()
    conflict = False  # set when refused for that: the page then says so, with the user's input kept

    def shows(self, record: ThresholdDraft) -> DraftForm:
        """Carry the draft as it is now: on first showing the page, or once told it changed."""
        self.draft_hash.data = policy.text_hash(record.content)
        return self

    def changed_since(self, record: ThresholdDraft) -> None:
        """The draft changed after the page was shown: say so, and carry the draft as it is now, so
        that sending the page again (after checking) applies the user's input to it."""
        self.conflict = True
        self.shows(record)


CHANGED_SINCE = "Someone else changed this draft after you opened this page, so "
NOT_SAVED = CHANGED_SINCE + ("your change was not saved. What you entered is kept here: check the draft as it is "
                             "now, then send this page again to apply it to their version.")
NOT_RETIRED = CHANGED_SINCE + ("the concern was not retired. Check the draft as it is now, then retire it again "
                               "if it should still go.")
NOT_PUBLISHED = CHANGED_SINCE + ("the version was not published. The changes below are the draft as it is now: "
                                 "check them (simulate it again), then confirm again.")


def _conflict_errors(form: DraftForm, message: str = NOT_SAVED) -> list[dict]:
    """The error summary's item for a refused change, with no link (no one field is wrong)."""
    return [{"text": message}] if form.conflict else []


# Overview, versions and differences ---------------------------------------------------------

@bp.get("/")
def index():
    version = current_version_or_none()
    library = current_library()
    today = _today()
    drafts = db.session.scalars(select(ThresholdDraft).where(ThresholdDraft.published_id.is_(None))
                                .order_by(ThresholdDraft.updated_at.desc())).all()
    return render_template("policy/index.html", version=version, today=today, drafts=drafts,
                           scheduled=_scheduled(library),
                           overdue=version is not None and version.overdue_for_review(today))


@bp.get("/versions")
def versions():
    library = current_library()
    current = current_version_or_none()
    today = _today()
    published = {r.id: r for r in db.session.scalars(select(PublishedThreshold))}
    rows = [{"version": v, "doc": v.document,
             "status": "In force" if current and v.id == current.id
             else "Scheduled" if v.effective_from > today else "Superseded",
             "published": published.get(v.id)} for v in reversed(library.versions)]
    latest = rows[0] if rows else None
    # Only the last version scheduled, published here, can be withdrawn (store.withdraw says why).
    withdrawable = latest["version"].id if latest and latest["status"] == "Scheduled" and latest["published"] else None
    withdrawn = sorted((r for r in published.values() if r.withdrawn_at is not None), key=lambda r: r.withdrawn_at,
                       reverse=True)
    return render_template("policy/versions.html", rows=rows, problems=library.problems, withdrawable=withdrawable,
                           withdrawn=withdrawn)


class WithdrawForm(FlaskForm):
    reason = TextAreaField("Why is it being withdrawn?", description="For the record: for example, what was wrong "
                           "with it, and who agreed to withdraw it.",
                           validators=[DataRequired("Enter why the version is being withdrawn"),
                                       Length(max=2000, message="Keep the reason to 2,000 characters or fewer")])


@bp.route("/versions/<version_id>/withdraw", methods=["GET", "POST"])
def withdraw(version_id: str):
    """Ask first, then withdraw a version published here before it takes effect."""
    forget_published(current_app)  # what is published now: a version withdrawn on another host a moment ago
    library = current_library()
    version = library.by_id(version_id)
    row = db.session.get(PublishedThreshold, version_id)
    if version is None or row is None:
        abort(404)
    form = WithdrawForm()
    refused = None
    if form.validate_on_submit():
        try:
            store.withdraw(version_id, form.reason.data.strip(), library=library,
                           thresholds_dir=current_app.config["THRESHOLDS_DIR"], today=_today(), actor=current_user)
        except store.CannotWithdraw as exc:
            refused = str(exc)
        else:
            forget_published(current_app)
            flash(f"Withdrawn {version_id}: no one will use it. The draft it was published from can be changed "
                  "and published again, with a new version id.")
            return redirect(url_for("policy.versions"))
    in_force_then = library.in_force(version.effective_from - dt.timedelta(days=1)) if any(
        v.effective_from < version.effective_from for v in library.versions) else None
    return render_template("policy/withdraw.html", version=version, row=row, form=form, refused=refused,
                           in_force_then=in_force_then,
                           scheduled=version.effective_from > _today()), 400 if refused or form.errors else 200


SECTION_NAMES = {"indicator": "Concerns", "level": "Levels", "rule": "Rules", "route": "Routes and outcomes",
                 "advice": "Consent advice", "contact": "Contacts", "document": "Version details",
                 "domain": "Domains", "area": "Areas", "question": "Severity questions", "source": "Sources cited"}
KIND_NAMES = {"added": "added", "removed": "retired", "moved": "moved level", "reworded": "reworded",
              "urgency changed": "urgency changed", "references changed": "references changed",
              "note changed": "notes changed", "changed": "changed"}


def describe_change(change, old, new) -> dict:
    """A change with the names a policy lead knows, and its before and after side by side."""
    label = change.id
    for version in (new, old):
        if change.section == "indicator" and change.id in version.indicators:
            ind = version.indicators[change.id]
            domain, area = version.areas[ind.area]
            label = f"{domain.name}: {area.name}" if change.kind in ("added", "removed") else ind.text
            break
        if change.section == "rule":
            rule = next((r for r in version.document.rules if r.id == change.id), None)
            if rule is not None:
                label = rule.reason
                break
        if change.section == "level" and change.id in {lv.id for lv in version.document.levels}:
            label = next(lv.name for lv in version.document.levels if lv.id == change.id)
            break
    if change.section in ("contact", "route", "document"):
        label = change.id.replace("_", " ").capitalize()
    return {"label": label, "before": change.before, "after": change.after, "detail": change.detail}


def compare_versions(old, new) -> list[dict]:
    """The changes grouped by what changed and how, concerns first: [{title, anchor, changes}]."""
    order = list(SECTION_NAMES)
    groups: dict[tuple, list] = {}
    for change in diff_versions(old, new):
        groups.setdefault((change.section, change.kind), []).append(describe_change(change, old, new))
    out = []
    for (section, kind), changes in sorted(groups.items(), key=lambda item: (
            order.index(item[0][0]) if item[0][0] in order else 99, list(KIND_NAMES).index(item[0][1])
            if item[0][1] in KIND_NAMES else 99)):
        title = f"{SECTION_NAMES.get(section, section)} {KIND_NAMES.get(kind, kind)}"
        out.append({"title": title, "anchor": f"{section}-{kind}".replace(" ", "-"), "changes": changes})
    return out


@bp.get("/versions/compare")
def compare():
    library = current_library()
    ids = [v.id for v in library.versions]
    old_id = request.args.get("old") or (ids[-2] if len(ids) > 1 else ids[0])
    new_id = request.args.get("new") or ids[-1]
    try:
        old, new = library.get(old_id), library.get(new_id)
    except KeyError:
        abort(404)
    return render_template("policy/compare.html", old=old, new=new, ids=ids,
                           changes=compare_versions(old, new))


# Drafts ---------------------------------------------------------------------------------------

def _scheduled(library) -> list:
    """The versions published to take effect after today, soonest first."""
    return [v for v in library.versions if v.effective_from > _today()]


@bp.get("/drafts")
def drafts():
    rows = db.session.scalars(select(ThresholdDraft).order_by(ThresholdDraft.updated_at.desc())).all()
    return render_template("policy/drafts.html", drafts=rows, load=policy.load_data,
                           scheduled=_scheduled(current_library()))


@bp.post("/drafts")
def new_draft():
    """A draft copied from the version in force, or from a scheduled one (`base`): a change published
    before a scheduled version takes effect is undone by it, so a lead may start from that instead."""
    library = current_library()
    version = current_version_or_none()
    if request.form.get("base"):
        version = next((v for v in _scheduled(library) if v.id == request.form["base"]), None)
        if version is None:
            abort(404)
    if version is None:
        abort(503)
    text = policy.new_draft_text(version, _base_text(version), library, _today(), current_user.name)
    draft = store.start_draft(current_user, version, text)
    scheduled = [v for v in _scheduled(library) if v.effective_from > version.effective_from]
    flash(f"Draft started from {version.id}. Nothing referrers see changes until you publish it."
          + "".join(f" {v.id} is scheduled to take effect on {v.effective_from:%-d %B %Y}: it was not started "
                    "from this draft, so this draft cannot be published to take effect before it."
                    for v in scheduled))
    return redirect(url_for("policy.draft", draft_id=draft.id))


def _checked(draft: ThresholdDraft):
    version, problems = policy.check(draft.content, current_library())
    return version, [policy.plain(p, draft.content) for p in problems]


def _changes(record: ThresholdDraft, version) -> tuple:
    """(the version the draft was started from, the draft's changes from it), when both load."""
    base = current_library().by_id(record.base_id)
    return base, compare_versions(base, version) if base is not None and version is not None else []


@bp.get("/drafts/<int:draft_id>")
def draft(draft_id: int):
    record = _draft(draft_id)
    version, problems = _checked(record)
    base, changes = _changes(record, version)
    return render_template("policy/draft.html", draft=record, version=version, problems=problems,
                           changes=changes, base=base, upload=UploadForm().shows(record), urgency_of=urgency_of,
                           urgency_names=URGENCY_NAMES, route_names=ROUTE_NAMES)


@bp.get("/drafts/<int:draft_id>/draft.yaml")
def download(draft_id: int):
    record = _draft(draft_id)
    name = re.sub(r"[^a-z0-9_-]", "", str(policy.load_data(record.content).get("id", ""))) or f"draft-{record.id}"
    return Response(record.content, mimetype="application/x-yaml",
                    headers={"Content-Disposition": f'attachment; filename="{name}.yaml"'})


class UploadForm(DraftForm):
    file = FileField("Upload an edited file", description="A YAML file downloaded from this draft and "
                     "edited. It replaces the draft only if it has no problems.")


@bp.post("/drafts/<int:draft_id>/upload")
def upload(draft_id: int):
    record = _editable_draft(draft_id)
    form = UploadForm()
    problems: list[str] = []
    if not form.validate_on_submit():
        problems = ["Choose a file to upload."]
    else:
        data = form.file.data
        # One limit, MAX_CONTENT_LENGTH: the request as a whole is held to it (beyond it, the 413
        # page gives the same size), and the file is never read past it, whatever sent it.
        limit = current_app.config["MAX_CONTENT_LENGTH"]
        raw = data.read(limit + 1) if data else b""
        if not raw:
            problems = ["Choose a file to upload."]
        elif len(raw) > limit:
            problems = [f"The file is larger than {size_limit()}: is it the right file?"]
        else:
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                problems = ["The file is not text saved as UTF-8: save it as UTF-8 text and upload it again."]
            else:
                version, found = policy.check(text, current_library())
                problems = [policy.plain(p, text) for p in found]
                if not problems:
                    try:
                        store.save_draft(record, text, "uploaded", seen=form.draft_hash.data, actor=current_user,
                                         version_id=version.id)
                    except store.DraftChanged:
                        form.changed_since(record)
                        problems = [CHANGED_SINCE + "the file was not used. Check the draft as it is now "
                                    "(download it to compare), then upload your file again if it should replace "
                                    "their version."]
                    else:
                        flash("The uploaded file had no problems and is now the draft.")
                        return redirect(url_for("policy.draft", draft_id=record.id))
    store.refuse_upload(record, len(problems), actor=current_user)
    version, current_problems = _checked(record)
    base, changes = _changes(record, version)  # the draft's page as it is, with the file's problems added
    sent = getattr(form.file.data, "filename", None) or ""
    upload_name = "".join(ch for ch in sent if ch.isprintable())[:100]  # said back, so the lead knows which file
    return render_template("policy/draft.html", draft=record, version=version, problems=current_problems,
                           upload_problems=problems, upload_name=upload_name, changes=changes, base=base, upload=form,
                           urgency_of=urgency_of, urgency_names=URGENCY_NAMES, route_names=ROUTE_NAMES), 400


@bp.post("/drafts/<int:draft_id>/discard")
def discard(draft_id: int):
    record = _draft(draft_id)
    store.discard_draft(record, actor=current_user)
    flash("The draft was discarded.")
    return redirect(url_for("policy.drafts"))


# Forms for the common changes -----------------------------------------------------------------

class ConcernForm(DraftForm):
    id = StringField("Id", description="A new, never-used id: lower-case letters, numbers and underscores.",
                     validators=[Optional(), Regexp(r"^[a-z][a-z0-9_]*$", message="Use lower-case letters, numbers and underscores, starting with a letter")])
    area = RadioField("Area", validators=[Optional()])
    text = TextAreaField("What the referrer reads", validators=[DataRequired("Enter the concern's wording"),
                                                                Length(max=1000)])
    hint = TextAreaField("Hint", description="Optional: explains the concern or its jargon in plain English.",
                         validators=[Optional(), Length(max=1000)])
    level = RadioField("Level", coerce=int, validators=[InputRequired("Choose a level")])
    urgency = RadioField("Urgency", choices=[(k, v) for k, v in URGENCY_NAMES.items()], validators=[Optional()])
    urgency_reason = TextAreaField("Why this urgency", validators=[Optional(), Length(max=1000)])
    references = TextAreaField("References", description="One a line: source id | where | note | level "
                               "(the level that source gives the concern). The source id must be one of the "
                               "document's sources.",
                               validators=[Optional(), Length(max=4000)])
    note = TextAreaField("Note", description="Optional: where published documents disagree, which level was "
                         "chosen and why.", validators=[Optional(), Length(max=2000)])
    family_not_told = BooleanField(
        "Referrers must not tell the family or ask for their consent",
        description="Telling the family could put the child in more danger (for example forced marriage, FGM, "
                    "fabricated illness or sexual abuse in the family). The family page warns the referrer, the "
                    "recommendation says not to tell them, and the front door decides when and how they are told.")
    must_tell_council = BooleanField(
        "The council must be told whatever the family says",
        description="For example private fostering, a homeless 16 or 17 year old or an unaccompanied child. "
                    "The guide says so beside the concern.")
    top_level: int | None = None  # set by _concern_form: a top-level concern needs its reason too

    def validate(self, extra_validators=None) -> bool:
        ok = super().validate(extra_validators)
        # After the fields' own checks (Optional() stops a field's chain when it is empty, so this is here).
        urgent = self.urgency.data in ("same_day", "emergency")
        top = self.top_level is not None and self.level.data == self.top_level
        if not (self.urgency_reason.data or "").strip() and (urgent or top):
            self.urgency_reason.errors = [*self.urgency_reason.errors,
                                          "Say why this concern is " + ("this urgent" if urgent else "at the top level")
                                          + ": referrers read it beside the urgent steps and in the guide"]
            ok = False
        return ok


def level_label(level) -> str:
    name = level.name if level.name.lower().startswith("level") else f"Level {level.number}: {level.name}"
    return f"{name} (leads to {ROUTE_NAMES[level.route].lower()})"


def _concern_form(version, indicator=None, adding=False):
    form = ConcernForm(data=None if indicator is None else {
        "text": indicator.text, "hint": indicator.hint, "level": indicator.level,
        "urgency": urgency_of(indicator), "urgency_reason": getattr(indicator, "urgency_reason", None),
        "references": policy.format_references(getattr(indicator, "references", None)),
        "note": getattr(indicator, "note", None), **{flag: getattr(indicator, flag) for flag in TELLING_FLAGS}})
    form.level.choices = [(lv.number, level_label(lv)) for lv in version.document.levels]
    form.top_level = version.document.levels[-1].number
    form.area.choices = [(f"{d.id}/{a.id}", f"{d.name}: {a.name}") for d in version.document.domains
                         for a in d.areas]
    if adding:
        form.id.validators = [DataRequired("Enter an id"), *form.id.validators[1:]]
        form.area.validators = [InputRequired("Choose an area")]
    return form


def _save_change(record, form: DraftForm, data: dict, change: str, detail: dict, *, saved: str,
                 anchor: str | None = None):
    """Check the changed draft: (a redirect back to the draft's section, None) once saved, with
    `saved` as the message; else (None, its problems), nothing saved. A draft changed since the
    form was shown is not saved either: the form says so (form.conflict)."""
    text = policy.dump(data)
    _version, problems = policy.check(text, current_library())
    if problems:
        return None, [policy.plain(p, text) for p in problems]
    try:
        store.save_draft(record, text, change, seen=form.draft_hash.data, actor=current_user, **detail)
    except store.DraftChanged:
        form.changed_since(record)
        return None, None
    flash(saved)
    return redirect(url_for("policy.draft", draft_id=record.id, _anchor=anchor)), None


def _form_page(template: str, record, form, problems, **context):
    if request.method == "GET":
        form.shows(record)
    return render_template(template, draft=record, form=form, problems=problems or [],
                           conflict=_conflict_errors(form), has_urgency=policy.HAS_URGENCY,
                           has_references=policy.HAS_REFERENCES,
                           **context), 400 if problems or form.errors or form.conflict else 200


def _optional_fields(form: ConcernForm) -> dict:
    """The optional parts of a concern that the form sent (a field left out is left unchanged)."""
    sent = {name for name in ("hint", "urgency", "urgency_reason", "references", "note") if name in request.form}
    fields = {}
    if "safety_shown" in request.form:  # a box left unticked sends nothing: the marker says the boxes were shown
        fields.update({flag: bool(getattr(form, flag).data) for flag in TELLING_FLAGS})
    if "hint" in sent:
        fields["hint"] = (form.hint.data or "").strip() or None
    if policy.HAS_URGENCY and "urgency" in sent and form.urgency.data:
        fields["urgency"] = form.urgency.data
        if "urgency_reason" in sent:
            fields["urgency_reason"] = (form.urgency_reason.data or "").strip()
    if policy.HAS_REFERENCES and "references" in sent:
        fields["references"] = form.references.data or ""
    if policy.HAS_REFERENCES and "note" in sent:
        fields["note"] = (form.note.data or "").strip()
    return fields


def _concern(draft_id: int, indicator_id: str):
    """(draft, its checked version, the concern) for a concern of an editable draft; else 404."""
    record = _editable_draft(draft_id)
    version, _ = _checked(record)
    if version is None or indicator_id not in version.indicators:
        abort(404)
    return record, version, version.indicators[indicator_id]


@bp.route("/drafts/<int:draft_id>/concerns/<indicator_id>", methods=["GET", "POST"])
def edit_concern(draft_id: int, indicator_id: str):
    record, version, indicator = _concern(draft_id, indicator_id)
    form = _concern_form(version, None if request.method == "POST" else indicator)
    problems = None
    if form.validate_on_submit():
        fields = {"text": form.text.data.strip(), "level": form.level.data, **_optional_fields(form)}
        data = policy.edit_indicator(policy.load_data(record.content), indicator_id, fields)
        saved, problems = _save_change(record, form, data, "concern_changed", {"indicator": indicator_id},
                                       saved=f"Saved: {fields['text']}", anchor="concerns")
        if saved is not None:
            return saved
    return _form_page("policy/concern.html", record, form, problems, indicator=indicator, adding=False)


@bp.route("/drafts/<int:draft_id>/concerns/new", methods=["GET", "POST"])
def add_concern(draft_id: int):
    record = _editable_draft(draft_id)
    version, _ = _checked(record)
    if version is None:
        abort(404)
    form = _concern_form(version, adding=True)
    problems = None
    if form.validate_on_submit():
        domain, area = form.area.data.split("/", 1)
        fields = {"id": form.id.data, "domain": domain, "area": area, "text": form.text.data.strip(),
                  "level": form.level.data, "urgency": "standard", **_optional_fields(form)}
        data = policy.edit_indicator(policy.load_data(record.content), None, fields)
        saved, problems = _save_change(record, form, data, "concern_added", {"indicator": form.id.data},
                                       saved=f"Added: {fields['text']}", anchor="concerns")
        if saved is not None:
            return saved
    return _form_page("policy/concern.html", record, form, problems, indicator=None, adding=True)


class RetireForm(DraftForm):
    """Retiring asks first: the form is only the draft's hash (and the CSRF token)."""


@bp.route("/drafts/<int:draft_id>/concerns/<indicator_id>/retire", methods=["GET", "POST"])
def retire_concern(draft_id: int, indicator_id: str):
    """Ask first, then leave the concern out of the draft (its id is never used again)."""
    record, version, indicator = _concern(draft_id, indicator_id)
    problems = None
    form = RetireForm()
    if form.validate_on_submit():
        data = policy.retire_indicator(policy.load_data(record.content), indicator_id)
        saved, problems = _save_change(record, form, data, "concern_retired", {"indicator": indicator_id},
                                       saved="The concern is retired in this draft: old records keep it; new "
                                             "journeys will not ask it.", anchor="concerns")
        if saved is not None:
            return saved
    if request.method == "GET":
        form.shows(record)
    return render_template("policy/retire.html", draft=record, indicator=indicator, form=form,
                           problems=problems or [], conflict=_conflict_errors(form, NOT_RETIRED)
                           ), 400 if problems or form.conflict or form.errors else 200


class RuleForm(DraftForm):
    reason = TextAreaField("The reason the referrer reads", validators=[DataRequired("Enter the reason"),
                                                                        Length(max=1000)])
    min_level = IntegerField("Counts concerns at this level or above", validators=[Optional(), NumberRange(1, 9)])
    min_count = IntegerField("How many concerns", validators=[Optional(), NumberRange(2, 50)])
    min_domains = IntegerField("Across at least this many domains", validators=[Optional(), NumberRange(1, 9)])
    min_age_months = IntegerField("From age (months)", validators=[Optional(), NumberRange(0, 216)])
    max_age_months = IntegerField("To age (months, inclusive)", validators=[Optional(), NumberRange(0, 216)])
    raise_to = IntegerField("Raises to level", validators=[Optional(), NumberRange(1, 9)])
    unless_level = IntegerField("Does not apply from level", validators=[Optional(), NumberRange(1, 9)])

    def validate_min_age_months(self, field):
        if field.data is not None and self.max_age_months.data is not None and field.data > self.max_age_months.data:
            raise ValidationError("'From age' must not be more than 'To age': no child would be in that range, "
                                  "so the rule would never apply")


@bp.route("/drafts/<int:draft_id>/rules/<rule_id>", methods=["GET", "POST"])
def edit_rule(draft_id: int, rule_id: str):
    record = _editable_draft(draft_id)
    version, _ = _checked(record)
    rule = next((r for r in version.document.rules if r.id == rule_id), None) if version else None
    if rule is None:
        abort(404)
    names = [path[-1] for path in policy.RULE_NUMBERS.get(rule.type, ())]
    if request.method == "POST":
        form = RuleForm()
    else:
        values = {"reason": rule.reason}
        for name in names:
            values[name] = getattr(rule.when, name, None) if hasattr(rule, "when") and hasattr(rule.when, name) \
                else getattr(rule, name, None)
        form = RuleForm(data=values)
    problems = None
    if form.validate_on_submit():
        numbers = {name: getattr(form, name).data for name in names}
        data = policy.edit_rule(policy.load_data(record.content), rule_id, form.reason.data.strip(), numbers)
        saved, problems = _save_change(record, form, data, "rule_changed", {"rule": rule_id},
                                       saved=f"Saved the rule: {form.reason.data.strip()}", anchor="rules")
        if saved is not None:
            return saved
    return _form_page("policy/rule.html", record, form, problems, rule=rule, names=names)


class ContactForm(DraftForm):
    name = StringField("Name", validators=[DataRequired("Enter the name"), Length(max=200)])
    phone = StringField("Phone", validators=[DataRequired("Enter the phone number"), Length(max=60)])
    hours = StringField("Hours", validators=[Optional(), Length(max=200)])
    email = StringField("Email", validators=[Optional(), Length(max=254), Email(
        "Enter an email address in the correct format, like lado@example.org", check_deliverability=False)])

    def validate_phone(self, field):
        if field.data and not DIALLABLE.fullmatch(field.data.strip()):
            raise ValidationError("Enter a phone number people can dial, in digits, spaces and hyphens, like "
                                  "01632 960 100 or 101")


CONTACT_KEYS = ("front_door", "out_of_hours", "early_help", "consultation", "police_non_emergency", "lado")
CONTACT_TITLES = {"lado": "LADO (Local Authority Designated Officer)", "police_non_emergency": "Police non-emergency"}


@bp.route("/drafts/<int:draft_id>/contacts/<key>", methods=["GET", "POST"])
def edit_contact(draft_id: int, key: str):
    record = _editable_draft(draft_id)
    if key not in CONTACT_KEYS:
        abort(404)
    current = (policy.load_data(record.content).get("contacts") or {}).get(key) or {}
    form = ContactForm() if request.method == "POST" else ContactForm(data=current)
    problems = None
    if form.validate_on_submit():
        fields = {n: (getattr(form, n).data or "").strip() or None for n in ("name", "phone", "hours", "email")}
        data = policy.edit_contact(policy.load_data(record.content), key, fields)
        saved, problems = _save_change(record, form, data, "contact_changed", {"contact": key},
                                       saved=f"Saved the contact: {fields['name']}", anchor="contacts")
        if saved is not None:
            return saved
    return _form_page("policy/contact.html", record, form, problems, key=key,
                      title=CONTACT_TITLES.get(key, key.replace("_", " ").capitalize()))


class RouteForm(DraftForm):
    summary = TextAreaField("Summary", validators=[DataRequired("Enter the summary"), Length(max=2000)])
    next_steps = TextAreaField("Next steps", description="One step a line, in order.",
                               validators=[DataRequired("Enter at least one step"), Length(max=8000)])


@bp.route("/drafts/<int:draft_id>/routes/<route>", methods=["GET", "POST"])
def edit_route(draft_id: int, route: str):
    record = _editable_draft(draft_id)
    if route not in ROUTE_NAMES:
        abort(404)
    info = policy.load_data(record.content)["routes"][route]
    form = RouteForm() if request.method == "POST" else RouteForm(
        data={"summary": info.get("summary"), "next_steps": "\n".join(info.get("next_steps") or [])})
    problems = None
    if form.validate_on_submit():
        steps = [line.strip() for line in form.next_steps.data.splitlines() if line.strip()]
        data = policy.edit_route(policy.load_data(record.content), route, form.summary.data.strip(), steps)
        saved, problems = _save_change(record, form, data, "route_changed", {"route": route},
                                       saved=f"Saved what happens next for {ROUTE_NAMES[route].lower()}.",
                                       anchor="routes")
        if saved is not None:
            return saved
    return _form_page("policy/route.html", record, form, problems, route=route, title=ROUTE_NAMES[route])


class DetailsForm(DraftForm):
    id = StringField("Version id", description="New and never used, e.g. northmere-2027-04. It becomes the "
                     "file name.", validators=[DataRequired("Enter the version id"),
                                              Regexp(r"^[a-z0-9][a-z0-9_-]*$", message="Use lower-case letters, numbers, - and _")])
    title = StringField("Title", validators=[DataRequired("Enter the title"), Length(max=200)])
    approved_by = StringField("Approved by", validators=[DataRequired("Enter who approved it"), Length(max=200)])
    summary_of_changes = TextAreaField("Summary of changes", description="In plain English, naming concerns "
                                       "rather than ids.", validators=[DataRequired("Enter the summary"),
                                                                       Length(max=4000)])
    review_by = StringField("Review by (YYYY-MM-DD)", validators=[DataRequired("Enter the review date"),
                            Regexp(r"^\d{4}-\d{2}-\d{2}$", message="Write the date as YYYY-MM-DD")])


@bp.route("/drafts/<int:draft_id>/details", methods=["GET", "POST"])
def edit_details(draft_id: int):
    record = _editable_draft(draft_id)
    data = policy.load_data(record.content)
    form = DetailsForm() if request.method == "POST" else DetailsForm(
        data={k: str(data.get(k, "")) for k in ("id", "title", "approved_by", "summary_of_changes", "review_by")})
    problems = None
    if form.validate_on_submit():
        try:
            review_by = dt.date.fromisoformat(form.review_by.data)
        except ValueError:
            form.review_by.errors.append("Enter a real date")
        else:
            fields = {"id": form.id.data, "title": form.title.data.strip(), "approved_by": form.approved_by.data.strip(),
                      "summary_of_changes": form.summary_of_changes.data.strip(), "review_by": review_by}
            saved, problems = _save_change(record, form, policy.edit_details(data, fields), "details_changed", {},
                                           saved="Saved the version details.")
            if saved is not None:
                return saved
    return _form_page("policy/details.html", record, form, problems)


# Simulation and publishing ---------------------------------------------------------------------

def _period(args) -> tuple[dt.date, dt.date, list[str]]:
    today = _today()
    errors = []
    end = workdays.parse_day(args["to"]) if args.get("to") else today
    if end is None:
        end, _ = today, errors.append(f"The end date must be written as YYYY-MM-DD, in a year {workdays.YEARS_ALLOWED}.")
    start = workdays.parse_day(args["from"]) if args.get("from") else end - dt.timedelta(days=365)
    if start is None:
        start, _ = end - dt.timedelta(days=365), errors.append(
            f"The start date must be written as YYYY-MM-DD, in a year {workdays.YEARS_ALLOWED}.")
    if start > end:
        errors.append("The start date must be before the end date.")
        start = end - dt.timedelta(days=365)
    return start, end, errors


@bp.get("/drafts/<int:draft_id>/simulate")
def simulate(draft_id: int):
    record = _draft(draft_id)
    version, problems = _checked(record)
    if version is None:
        flash("Fix the draft's problems before simulating it.")
        return redirect(url_for("policy.draft", draft_id=record.id))
    simulated = policy.text_hash(record.content)  # before the rollback below, which may read a newer text
    start, end, errors = _period(request.args)
    # The version the draft says it supersedes (as publishing and the command line read it), else its start.
    library = current_library()
    base = library.by_id(version.document.supersedes or record.base_id)
    result = run_simulation(db.session.connection(), version, start, end, on_date=_today(),
                            cases_dir=Path(current_app.config["THRESHOLDS_DIR"]) / "tests", baseline=base,
                            library=library)
    db.session.rollback()  # end the read transaction before writing the audit row
    store.record_simulation(record, version.id, start, end,
                            {"assessments": result.total, "changed": result.changed,
                             "less_urgent": result.less_urgent, "sent_away": result.sent_away,
                             "cases_failed": len(result.cases_failed)},
                            actor=current_user)
    return render_template("policy/simulate.html", draft=record, version=version, result=result,
                           simulated=simulated, problems=problems,
                           start=start, end=end, errors=errors, route_names=ROUTE_NAMES,
                           urgency_names=URGENCY_NAMES, outcome_names=OUTCOME_NAMES)


class PublishForm(DraftForm):
    day = StringField("Day")
    month = StringField("Month")
    year = StringField("Year")
    confirm = BooleanField("I have checked the changes and the simulation, and this version has been approved",
                           validators=[DataRequired("Confirm that the version has been checked and approved")])


@bp.route("/drafts/<int:draft_id>/publish", methods=["GET", "POST"])
def publish(draft_id: int):
    record = _editable_draft(draft_id)
    version, problems = _checked(record)
    today = _today()
    # The date the draft itself gives, when that is still to come (a version prepared for 1 April), else today.
    proposed = version.effective_from if version is not None and version.effective_from > today else today
    form = PublishForm(prefix="effective") if request.method == "POST" else PublishForm(
        prefix="effective", data={"day": str(proposed.day), "month": str(proposed.month),
                                  "year": str(proposed.year)}).shows(record)
    publish_problems: list[str] = []
    if version is not None and not problems and form.validate_on_submit():
        try:
            effective = dt.date(int(form.year.data), int(form.month.data), int(form.day.data))
        except (TypeError, ValueError):
            form.day.errors.append("Enter a real date, for example 1 4 2027")
        else:
            try:
                forget_published(current_app)  # the checks read what is published now, not a cached list
                row = store.publish(record.content, effective, library=current_library(),
                                    thresholds_dir=current_app.config["THRESHOLDS_DIR"], today=today,
                                    draft=record, seen=form.draft_hash.data, actor=current_user)
            except policy.PublishError as exc:
                publish_problems = list(exc.problems)
            except store.DraftChanged:
                db.session.expire(record)
                version, problems = _checked(record)
                form.changed_since(record)
                form.confirm.data = False  # confirmed for what the page showed, not for the draft as it is now
            else:
                forget_published(current_app)
                flash(f"Published {row.id}: it is in force from today." if row.effective_from <= today else
                      f"Published {row.id}: it takes effect on {row.effective_from:%-d %B %Y}. Until then "
                      "referrers keep using the version in force today.")
                return redirect(url_for("policy.versions"))
    status = 400 if request.method == "POST" else 200
    base, changes = _changes(record, version)
    # Opened from a simulation: was it of this text? (The confirmation is for the text shown here.)
    simulated = request.args.get("simulated")
    return render_template("policy/publish.html", draft=record, version=version, problems=problems,
                           publish_errors=_conflict_errors(form, NOT_PUBLISHED) + [
                               # Only a problem the date puts right links to it; the rest are the draft's own.
                               {"text": str(p), **({"href": "#effective-day"} if isinstance(p, policy.DateProblem)
                                                   else {})} for p in publish_problems],
                           form=form, today=today, base=base, changes=changes,
                           simulated_other=bool(simulated) and simulated != policy.text_hash(record.content)), status
