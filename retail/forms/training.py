"""Training forms: courses, sessions, invitations, attendance and results; the retailer's accept/decline forms."""
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    HiddenField,
    IntegerField,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import (
    DataRequired,
    Length,
    NumberRange,
    Optional,
    StopValidation,
    ValidationError,
)

from . import SubmitOnceForm, VersionedForm


def _optional_int(value):
    if value in (None, "", "None"):
        return None
    return int(value)


def _pass_mark_needed(form, field):
    """A pass mark only matters when the course has an exam; then it is required."""
    if not form.has_exam.data or field.data is None:
        field.errors[:] = []
        raise StopValidation(None if not form.has_exam.data else "Give the pass mark for a course with an exam.")


class CourseFields:
    title = StringField("Title", validators=[DataRequired(), Length(max=200)],
                        default="Knife retailer accredited trader training")
    provider = StringField("Provider", validators=[Optional(), Length(max=200)])
    duration_minutes = IntegerField("Duration (minutes)", default=150,
                                    validators=[DataRequired(), NumberRange(min=15, max=24 * 60)],
                                    description="150 minutes = two and a half hours.")
    has_exam = BooleanField("Exam at the end", default=True)
    pass_mark = IntegerField("Pass mark (%)", default=70, validators=[_pass_mark_needed, NumberRange(min=1, max=100)])
    validity_months = IntegerField("Certificate valid for (months)", default=12,
                                   validators=[DataRequired(), NumberRange(min=1, max=60)])
    description = TextAreaField("What it covers", validators=[Optional(), Length(max=5000)], render_kw={"rows": 3})
    active = BooleanField("Offered now", default=True)


class CourseCreateForm(CourseFields, SubmitOnceForm):
    submit = SubmitField("Add course")


class CourseEditForm(CourseFields, VersionedForm):
    submit = SubmitField("Save changes")


class SessionFields:
    course_id = SelectField("Course", coerce=int, validators=[DataRequired()])
    on = DateField("Date", validators=[DataRequired()])
    at = TimeField("Start time", validators=[DataRequired()])
    venue = StringField("Venue", validators=[DataRequired(), Length(max=300)])
    trainer = StringField("Trainer", validators=[Optional(), Length(max=120)])
    capacity = IntegerField("Places", default=20, validators=[DataRequired(), NumberRange(min=1, max=500)])
    notes = TextAreaField("Notes", validators=[Optional(), Length(max=2000)], render_kw={"rows": 2})


class SessionCreateForm(SessionFields, SubmitOnceForm):
    submit = SubmitField("Add session")


class SessionEditForm(SessionFields, VersionedForm):
    cancelled = BooleanField("Session cancelled")
    submit = SubmitField("Save changes")


class InvitationFields:
    premises_id = SelectField("Shop", coerce=_optional_int, validators=[Optional()])
    session_id = SelectField("Session offered", coerce=_optional_int, validators=[Optional()])
    visited_on = DateField("Invited in person on (visit date)", validators=[Optional()])
    visit_officer = StringField("Visiting officer", validators=[Optional(), Length(max=120)])
    letter_sent_on = DateField("Confirming letter sent on", validators=[Optional()],
                               description="Leave blank until the letter goes; print it from the letters page.")
    deadline = DateField("Reply by", validators=[Optional()],
                         description="Blank: three weeks after the visit.")
    places = IntegerField("Staff places", default=1, validators=[DataRequired(), NumberRange(min=1, max=20)])
    notes = TextAreaField("Notes", validators=[Optional(), Length(max=2000)], render_kw={"rows": 2})

    def validate_visit_officer(self, field):
        if self.visited_on.data and not (field.data or "").strip():
            raise ValidationError("Name the officer who visited.")


class InvitationCreateForm(InvitationFields, SubmitOnceForm):
    submit = SubmitField("Record invitation")


class InvitationEditForm(InvitationFields, VersionedForm):
    submit = SubmitField("Save changes")


class LetterSentForm(FlaskForm):
    on = DateField("Letter sent on", validators=[DataRequired()])
    submit = SubmitField("Record letter sent")


class OfficerResponseForm(VersionedForm):
    """An officer records the reply given by phone or in person."""

    response = SelectField("Reply", choices=[("accepted", "Accepted"), ("declined", "Declined")])
    on = DateField("Replied on", validators=[DataRequired()])
    session_id = SelectField("Session", coerce=_optional_int, validators=[Optional()])
    places = IntegerField("Staff places", validators=[Optional(), NumberRange(min=1, max=20)])
    reason = TextAreaField("Reason given (for a decline)", validators=[Length(max=2000)],
                           render_kw={"rows": 2})
    submit = SubmitField("Record reply")

    def validate_reason(self, field):
        if self.response.data == "declined" and not (field.data or "").strip():
            raise ValidationError("Record the reason the business gave for declining.")


class AttendeeForm(SubmitOnceForm):
    person_name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    person_role = StringField("Role", validators=[Optional(), Length(max=120)],
                              render_kw={"placeholder": "e.g. Manager, sales assistant, delivery driver"})
    invitation_id = SelectField("Business (accepted invitation)", coerce=_optional_int, validators=[Optional()])
    premises_id = IntegerField("Or shop id (walk-in)", validators=[Optional()],
                               description="Type part of the shop's name or postcode to find it.")
    submit = SubmitField("Add to session")

    def validate_premises_id(self, field):
        if not self.invitation_id.data and not field.data:
            raise ValidationError("Choose the invited business or the shop the person works at.")


class ResultForm(VersionedForm):
    status = SelectField("Attendance", choices=[("attended", "Attended"), ("no-show", "Did not attend")])
    exam_score = IntegerField("Exam score (%)", validators=[Optional(), NumberRange(min=0, max=100)])
    submit = SubmitField("Save result")


class AcceptForm(FlaskForm):
    session_id = SelectField("Session", coerce=_optional_int, validators=[Optional()])
    places = IntegerField("How many staff will come", default=1, validators=[DataRequired(),
                                                                             NumberRange(min=1, max=20)])
    submit = SubmitField("Accept the invitation")


class DeclineForm(FlaskForm):
    reason = TextAreaField("Why are you declining?", validators=[DataRequired(message="Say why you are declining."),
                                                                 Length(max=2000)], render_kw={"rows": 3})
    submit = SubmitField("Decline the invitation")


class MarkLettersSentForm(FlaskForm):
    ids = HiddenField()
    on = DateField("Posted on", validators=[DataRequired()])
    submit = SubmitField("Mark these letters as sent")
