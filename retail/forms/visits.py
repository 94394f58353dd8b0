"""The advice visit form: phone-first, one screen, every problem shown in one round trip."""
from wtforms import DateField, HiddenField, RadioField, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import Length, Optional

from ..models.visits import CHECK_RESULT_LABELS, CHECKS, RRA_ON_VISIT_LABELS
from . import SubmitOnceForm, VersionedForm

_RESULTS = [(k.value, v) for k, v in CHECK_RESULT_LABELS.items()]


def _check(label):
    return RadioField(label, choices=_RESULTS, default="not-checked", validators=[Optional()])


class VisitFields:
    premises_query = StringField("Shop", validators=[Optional(), Length(max=200)],
                                 description="Type part of the shop's name or postcode.",
                                 render_kw={"autocomplete": "off", "data-premises-picker": "1"})
    premises_id = HiddenField()
    visited_on = DateField("Date of visit", validators=[Optional()], render_kw={"required": True})
    person_seen = StringField("Who you saw", validators=[Optional(), Length(max=120)],
                              render_kw={"required": True, "autocomplete": "off"})
    person_role = StringField("Their role", validators=[Optional(), Length(max=120)],
                              description="Owner, manager, staff member…")
    display_check = _check(CHECKS["display_check"])
    challenge25_policy_check = _check(CHECKS["challenge25_policy_check"])
    signage_check = _check(CHECKS["signage_check"])
    refusals_log_check = _check(CHECKS["refusals_log_check"])
    till_prompts_check = _check(CHECKS["till_prompts_check"])
    training_check = _check(CHECKS["training_check"])
    staff_trained_on = DateField("Staff last trained on", validators=[Optional()])
    rra = SelectField("Responsible Retailers Agreement", choices=[(k.value, v) for k, v in RRA_ON_VISIT_LABELS.items()],
                      default="not-offered")
    advice_given = TextAreaField("Advice given (the business sees this)", validators=[Optional(), Length(max=4000)],
                                 render_kw={"rows": 3})
    photo_refs = StringField("Photo references", validators=[Optional(), Length(max=500)],
                             description="Camera or evidence references, e.g. IMG_2041, IMG_2042.")
    next_visit_due = DateField("Next visit due", validators=[Optional()],
                               description="Left empty: in 3 months if advice was given, otherwise in 12.")
    officer_notes = TextAreaField("Your notes (staff only, never shown to the business)",
                                  validators=[Optional(), Length(max=4000)], render_kw={"rows": 2})


class VisitForm(VisitFields, SubmitOnceForm):
    submit = SubmitField("Save the visit")


class VisitEditForm(VisitFields, VersionedForm):
    submit = SubmitField("Save changes")
