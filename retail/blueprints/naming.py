"""The naming workflow pages: staff move a case through its stages; the retailer reads the notice and answers it."""
from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy.orm.exc import StaleDataError

from .. import letters, naming, naming_appeal, naming_correction, naming_public, scoring
from ..access import STAFF, Role, roles_required
from ..audit import history
from ..extensions import db
from ..idempotency import commit_once, new_token, previous_submission, remember_submission
from ..models.compliance import CASE_STATUS_LABELS, CaseStatus, NamingAttachment, NamingCase
from ..models.register import Business
from ..nav import add_nav
from ..register import StaleRecord, check_version
from ..settings import all_settings
from ..timeutil import today_london

bp = Blueprint("naming", __name__)

PROPOSERS = naming.PROPOSERS
DECIDERS = naming.DECIDERS  # supervisors only: administrators manage users and settings (issue 9)
add_nav("Naming", "naming.index", STAFF, 42)


def _case(case_id: int) -> NamingCase:
    return db.session.get(NamingCase, case_id) or abort(404)


def _run(case: NamingCase, step, success: str | None = None):
    """Apply one workflow step with the version the form was opened at; refusals are shown, never half-applied.
    Without `success`, the step's own return value is the message."""
    try:
        check_version(case, request.form.get("version"))
        done = step()
        db.session.commit()
    except (naming.NamingError, StaleRecord) as exc:
        db.session.rollback()
        flash(str(exc), "danger")
    except StaleDataError:
        db.session.rollback()
        flash("Someone else moved this case on at the same moment. Reload to see what they did.", "danger")
    else:
        flash(success or done, "success")
    return redirect(url_for("naming.case_view", case_id=case.id))


def letter_context(case: NamingCase) -> dict:
    business = case.business
    # The letter's promises come from the same rules the workflow enforces, so they cannot disagree (issue 9).
    return {"case": case, "business": business, "settings": all_settings(), "rules": scoring.current_rules(),
            # the shops the public entry would name: where the cited sales happened (issue 9 part 3)
            "premises": naming_public.sale_places([case])[0][case.id], "today": today_london(),
            # the notice as it was sent, when the post round kept its text (the wording may have changed since)
            "as_sent": Markup(letters.sent_content("naming-notice", case.id) or "")}


# --- staff ----------------------------------------------------------------------------------------------------------

@bp.route("/naming")
@roles_required(STAFF)
def index():
    return render_template("naming/index.html", stages=naming.cases_by_stage(), labels=CASE_STATUS_LABELS,
                           today=today_london())


@bp.route("/naming/open/<int:business_id>", methods=["POST"])
@roles_required(PROPOSERS)
def open_case(business_id: int):
    business = db.session.get(Business, business_id) or abort(404)
    try:
        case = naming.open_case(business, current_user, request.form.get("reason", "").strip())
        db.session.commit()
    except naming.NamingError as exc:
        db.session.rollback()
        flash(str(exc), "danger")
        return redirect(url_for("compliance.candidates"))
    flash("Case opened. Draft the public statement of facts and propose it.", "success")
    return redirect(url_for("naming.case_view", case_id=case.id))


@bp.route("/naming/<int:case_id>")
@roles_required(STAFF)
def case_view(case_id: int):
    case = _case(case_id)
    today = today_london()
    return render_template(
        "naming/case.html", case=case, today=today, window_open=naming.window_open(case, today),
        can_publish=naming.can_publish(case, today), involved=naming.involved_user_ids(case),
        editors=naming.editor_ids(case), appeal_open=naming_appeal.appeal_open(case, today),
        appeal_excluded=naming_appeal.appeal_deciders_excluded(case),
        evidence=scoring.candidate_evidence(case.business_id, today), record_url=scoring.record_url,
        history=history("NamingCase", case.id), CaseStatus=CaseStatus, DECIDERS=DECIDERS, PROPOSERS=PROPOSERS)


@bp.route("/naming/<int:case_id>/propose", methods=["POST"])
@roles_required(PROPOSERS)
def propose(case_id: int):
    case = _case(case_id)
    return _run(case, lambda: naming.propose(case, current_user, request.form.get("statement", ""),
                                             request.form.get("reason", ""), request.form.get("published_name", ""),
                                             request.form.get("name_confirmed") == "yes"),
                "Proposed. A supervisor other than you must approve the notice.")


@bp.route("/naming/<int:case_id>/approve", methods=["POST"])
@roles_required(DECIDERS)
def approve(case_id: int):
    case = _case(case_id)
    return _run(case, lambda: naming.approve_notice(case, current_user, request.form.get("reason", "")),
                "Approved for notice.")


@bp.route("/naming/<int:case_id>/reject", methods=["POST"])
@roles_required(DECIDERS)
def reject(case_id: int):
    case = _case(case_id)
    return _run(case, lambda: naming.reject_proposal(case, current_user, request.form.get("reasons", "")),
                "Closed with no action.")


@bp.route("/naming/<int:case_id>/notice", methods=["POST"])
@roles_required(PROPOSERS)
def send_notice(case_id: int):
    case = _case(case_id)
    return _run(case, lambda: naming.send_notice(case, current_user),
                "Notice recorded as sent. The business can now see it in its portal.")


@bp.route("/naming/<int:case_id>/letter")
@roles_required(STAFF)
def letter(case_id: int):
    case = _case(case_id)
    if case.status in (CaseStatus.CANDIDATE, CaseStatus.PROPOSED):
        flash("The notice letter is available once a supervisor has approved the proposal.", "warning")
        return redirect(url_for("naming.case_view", case_id=case.id))
    return render_template("naming/letter.html", **letter_context(case))


@bp.route("/naming/<int:case_id>/representations", methods=["POST"])
@roles_required(PROPOSERS)
def representations(case_id: int):
    case = _case(case_id)
    return _run(case, lambda: naming.submit_representations(case, current_user, request.form.get("text", "")),
                "Representations recorded.")


@bp.route("/naming/<int:case_id>/decide", methods=["POST"])
@roles_required(DECIDERS)
def decide(case_id: int):
    case = _case(case_id)
    publish = request.form.get("outcome") == "publish"
    return _run(case, lambda: naming.decide(case, current_user, publish, request.form.get("reasons", "")),
                "Decision recorded.")


@bp.route("/naming/<int:case_id>/appeal", methods=["POST"])
@roles_required(PROPOSERS)
def appeal(case_id: int):
    """An officer records an appeal the business sent in writing (issue 9 part 1)."""
    case = _case(case_id)
    return _run(case, lambda: naming_appeal.lodge_appeal(case, current_user, request.form.get("grounds", "")),
                "Appeal recorded: nothing can be published until a supervisor not involved in the case decides it.")


@bp.route("/naming/<int:case_id>/appeal-decision", methods=["POST"])
@roles_required(DECIDERS)
def appeal_decision(case_id: int):
    case = _case(case_id)
    allow = request.form.get("outcome") == "allow"
    return _run(case, lambda: naming_appeal.decide_appeal(case, current_user, allow, request.form.get("reasons", "")),
                "Appeal allowed: the case is closed with no action." if allow
                else "Appeal refused: the case can now be published.")


@bp.route("/naming/<int:case_id>/publish", methods=["POST"])
@roles_required(DECIDERS)
def publish(case_id: int):
    case = _case(case_id)
    return _run(case, lambda: naming.publish(case, current_user), "Published on the public register.")


@bp.route("/naming/<int:case_id>/remove", methods=["POST"])
@roles_required(DECIDERS)
def remove(case_id: int):
    case = _case(case_id)
    return _run(case, lambda: naming.remove_early(case, current_user, request.form.get("reason", "")),
                "Removed from the public register.")


@bp.route("/naming/<int:case_id>/withdraw", methods=["POST"])
@roles_required(DECIDERS)
def withdraw(case_id: int):
    case = _case(case_id)
    return _run(case, lambda: naming.withdraw(case, current_user, request.form.get("reason", "")))


@bp.route("/naming/<int:case_id>/correct", methods=["POST"])
@roles_required(DECIDERS)
def correct(case_id: int):
    case = _case(case_id)
    form = request.form
    return _run(case, lambda: naming_correction.correct(case, current_user, form.get("statement", ""),
                                                        form.get("published_name", ""), form.get("reason", "")))


@bp.route("/naming/<int:case_id>/reply-check", methods=["POST"])
@roles_required(DECIDERS)
def reply_check(case_id: int):
    case = _case(case_id)
    approve = request.form.get("decision") == "approve"
    return _run(case, lambda: naming.check_reply(case, current_user, approve, request.form.get("reason", "")),
                "Reply approved: it is published with the entry." if approve else "Reply rejected.")


@bp.route("/naming/attachments/<int:attachment_id>")
@roles_required(STAFF)
def attachment(attachment_id: int):
    item = db.session.get(NamingAttachment, attachment_id) or abort(404)
    return _download(item)


def _download(item: NamingAttachment) -> Response:
    safe = "".join(c for c in item.filename if c.isalnum() or c in "._- ") or "attachment"
    return Response(item.data, mimetype=item.content_type,
                    headers={"Content-Disposition": f'attachment; filename="{safe}"',
                             "X-Content-Type-Options": "nosniff"})


# --- the retailer's side (own business only; anything else is 404) ------------------------------------------------

def _own_case(case_id: int) -> NamingCase:
    case = naming.retailer_case(case_id, current_user)
    if case is None:
        abort(404)
    return case


@bp.route("/my/naming")
@roles_required(Role.RETAILER)
def my_cases():
    return render_template("naming/my_cases.html", cases=naming.retailer_cases(current_user.business_id),
                           today=today_london())


@bp.route("/my/naming/<int:case_id>")
@roles_required(Role.RETAILER)
def my_case(case_id: int):
    case = _own_case(case_id)
    return render_template("naming/my_case.html", case=case, today=today_london(),
                           window_open=naming.window_open(case), appeal_open=naming_appeal.appeal_open(case),
                           CaseStatus=CaseStatus, submission_token=new_token(),
                           cited=naming.cited_records(case))


@bp.route("/my/naming/<int:case_id>/letter")
@roles_required(Role.RETAILER)
def my_letter(case_id: int):
    case = _own_case(case_id)
    return render_template("naming/letter.html", **letter_context(case))


@bp.route("/my/naming/<int:case_id>/representations", methods=["POST"])
@roles_required(Role.RETAILER)
def my_representations(case_id: int):
    _own_case(case_id)
    upload = request.files.get("attachment")
    text = request.form.get("text", "")
    token = request.form.get("submission_token") or None
    received = ("Thank you: your representations have been received and will be considered before any decision.")
    # A double tap or a resend of the same form records the representations once (issue 14); the case row is
    # locked so simultaneous sends wait for each other rather than fail.
    case = naming.lock_case(case_id)
    if previous_submission(token) is not None:
        db.session.rollback()
        flash(received, "success")
        return redirect(url_for("naming.my_case", case_id=case_id))

    def step():
        if text.strip():
            naming.submit_representations(case, current_user, text)
        elif not (upload and upload.filename):
            raise naming.NamingError("Write your representations or attach a file.")
        if upload and upload.filename:
            naming.add_attachment(case, current_user, upload.filename, upload.mimetype, upload.read())

    try:
        step()
        remember_submission(token, "NamingRepresentations", case.id, current_user.id)
    except naming.NamingError as exc:
        db.session.rollback()
        flash(str(exc), "danger")
    else:
        commit_once(token)
        flash(received, "success")
    return redirect(url_for("naming.my_case", case_id=case_id))


@bp.route("/my/naming/<int:case_id>/appeal", methods=["POST"])
@roles_required(Role.RETAILER)
def my_appeal(case_id: int):
    """The business appeals against a decision to publish, within the window (issue 9 part 1)."""
    case = naming.lock_case(_own_case(case_id).id)
    try:
        naming_appeal.lodge_appeal(case, current_user, request.form.get("grounds", ""))
        db.session.commit()
    except naming.NamingError as exc:
        db.session.rollback()
        flash(str(exc), "danger")
    else:
        flash("Your appeal has been received. A senior officer who was not involved will decide it; nothing is "
              "published meanwhile.", "success")
    return redirect(url_for("naming.my_case", case_id=case_id))


@bp.route("/my/naming/<int:case_id>/reply", methods=["POST"])
@roles_required(Role.RETAILER)
def my_reply(case_id: int):
    case = _own_case(case_id)
    try:
        naming.submit_reply(case, current_user, request.form.get("text", ""))
        db.session.commit()
    except naming.NamingError as exc:
        db.session.rollback()
        flash(str(exc), "danger")
    else:
        flash("Your reply has been received. It is published next to the entry once it has been checked.", "success")
    return redirect(url_for("naming.my_case", case_id=case.id))


@bp.route("/my/naming/attachments/<int:attachment_id>")
@roles_required(Role.RETAILER)
def my_attachment(attachment_id: int):
    item = db.session.get(NamingAttachment, attachment_id)
    if item is None or naming.retailer_case(item.case_id, current_user) is None:
        abort(404)
    return _download(item)
