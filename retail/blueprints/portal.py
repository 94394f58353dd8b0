"""The retailer portal at /my: their shops, agreement, training, invitations to accept or decline, results.

Every route is for retailers only, and every record is looked up within the retailer's own business (404 otherwise).
"""
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from .. import portal
from .. import training as tr
from ..access import Role, roles_required
from ..extensions import db
from ..forms.training import AcceptForm, DeclineForm
from ..models.register import Premises
from ..models.training import InvitationResponse, TrainingAttendance, TrainingInvitation
from ..nav import add_nav
from ..timeutil import london, today_london
from ..validation import InvalidValue

bp = Blueprint("portal", __name__)
add_nav("My business", "portal.index", {Role.RETAILER}, 5)


@bp.route("/my")
@roles_required(Role.RETAILER)
def index():
    if tr.expire_overdue_invitations(today_london(), business_id=current_user.business_id):
        db.session.commit()
    return render_template("portal/index.html", business=current_user.business,
                           sections=portal.portal_sections(current_user), authority=portal.authority())


@bp.route("/my/premises/<int:premises_id>")
@roles_required(Role.RETAILER)
def premises(premises_id: int):
    shop = portal.own_record(current_user, Premises, premises_id)
    status = tr.training_status(shop.business_id).get(shop.id)
    return render_template("portal/premises.html", premises=shop, status=status,
                           rra=portal.premises_rra(shop.business_id).get(shop.id))


def _forms(invitation: TrainingInvitation, accept=None, decline=None):
    accept = accept or AcceptForm()
    choices = []
    if invitation.session and not invitation.session.cancelled and invitation.session.starts_at > tr.utcnow():
        choices.append((invitation.session.id, _label(invitation.session, tr.places_left(invitation.session))))
    choices += [(s.id, _label(s, left)) for s, left in tr.upcoming_sessions(with_room=1)
                if s.id != invitation.session_id]
    accept.session_id.choices = choices or [(None, "The officer will offer a date")]
    if request.method == "GET":
        accept.session_id.data = choices[0][0] if choices else None
        accept.places.data = invitation.places
    return accept, decline or DeclineForm()


def _label(session, left) -> str:
    return f"{london(session.starts_at).strftime('%a %d %b %Y %H:%M')}, {session.venue} ({left} places left)"


def _render_invitation(invitation, accept=None, decline=None, status=200):
    accept, decline = _forms(invitation, accept, decline)
    return render_template("portal/invitation.html", invitation=invitation, accept_form=accept,
                           decline_form=decline, authority=portal.authority(),
                           can_answer=invitation.response in (InvitationResponse.PENDING,
                                                              InvitationResponse.NO_RESPONSE)), status


@bp.route("/my/invitations/<int:invitation_id>")
@roles_required(Role.RETAILER)
def invitation(invitation_id: int):
    return _render_invitation(portal.own_record(current_user, TrainingInvitation, invitation_id))


@bp.route("/my/invitations/<int:invitation_id>/accept", methods=["POST"])
@roles_required(Role.RETAILER)
def accept(invitation_id: int):
    inv = portal.own_record(current_user, TrainingInvitation, invitation_id)
    form, _ = _forms(inv)
    if form.validate_on_submit():
        try:
            changed = tr.accept_invitation(inv, today_london(), f"retailer: {current_user.email}",
                                           form.session_id.data, form.places.data)
            db.session.commit()
        except InvalidValue as exc:
            db.session.rollback()
            form.session_id.errors = list(form.session_id.errors) + [str(exc)]
        else:
            flash("Thank you: your place is booked." if changed else "You have already accepted this invitation.",
                  "success")
            return redirect(url_for("portal.invitation", invitation_id=inv.id))
    return _render_invitation(inv, accept=form, status=422)


@bp.route("/my/invitations/<int:invitation_id>/decline", methods=["POST"])
@roles_required(Role.RETAILER)
def decline(invitation_id: int):
    inv = portal.own_record(current_user, TrainingInvitation, invitation_id)
    form = DeclineForm()
    if form.validate_on_submit():
        try:
            changed = tr.decline_invitation(inv, today_london(), form.reason.data, f"retailer: {current_user.email}")
            db.session.commit()
        except InvalidValue as exc:
            db.session.rollback()
            form.reason.errors = list(form.reason.errors) + [str(exc)]
        else:
            flash("Your reply has been sent to Trading Standards." if changed
                  else "You have already declined this invitation.", "info")
            return redirect(url_for("portal.invitation", invitation_id=inv.id))
    return _render_invitation(inv, decline=form, status=422)


@bp.route("/my/invitations/<int:invitation_id>/letter")
@roles_required(Role.RETAILER)
def invitation_letter(invitation_id: int):
    inv = portal.own_record(current_user, TrainingInvitation, invitation_id)
    return render_template("training/letters.html", letters=[tr.invitation_letter(inv)], form=None,
                           back=url_for("portal.invitation", invitation_id=inv.id))


@bp.route("/my/certificates/<int:attendance_id>")
@roles_required(Role.RETAILER)
def certificate(attendance_id: int):
    attendance = portal.own_record(current_user, TrainingAttendance, attendance_id)
    if not attendance.passed:
        flash("There is no certificate for this record.", "info")
        return redirect(url_for("portal.index"))
    return render_template("portal/certificate.html", attendance=attendance, authority=portal.authority(),
                           held_on=tr.session_date(attendance.session))
