"""Sign-in, password and user administration forms."""
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, IntegerField, PasswordField, SelectField, StringField, SubmitField
from wtforms.validators import (DataRequired, Email, EqualTo, InputRequired, Length, NumberRange, Optional,
                                ValidationError)

from ..access import ROLE_LABELS, Role
from ..models.authority import AuthorityKind
from ..passwords import MIN_LENGTH as MIN_PASSWORD
from ..passwords import password_problem
from ..settings import VOLUNTEER_AGE_BOUNDS


class LoginForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired()])
    submit = SubmitField("Sign in")


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField("Current password", validators=[DataRequired()])
    new_password = PasswordField("New password", validators=[
        DataRequired(), Length(min=MIN_PASSWORD, message=f"Use at least {MIN_PASSWORD} characters.")])
    confirm = PasswordField("Repeat the new password", validators=[
        DataRequired(), EqualTo("new_password", message="The two passwords do not match.")])
    submit = SubmitField("Change password")


def role_choices(kind: AuthorityKind | None = None) -> list[tuple[str, str]]:
    """The roles an admin may give inside an organisation of `kind` (accounts.create_user checks the same rule)."""
    if kind == AuthorityKind.CITY_HALL:
        roles = [Role.CITY_HALL, Role.ADMIN]
    else:
        roles = [r for r in Role if r != Role.CITY_HALL or kind is None]
    return [(r.value, ROLE_LABELS[r]) for r in roles]


class UserForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Email(check_deliverability=False), Length(max=254)])
    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    role = SelectField("Role", choices=role_choices(), validators=[DataRequired()])
    business_id = IntegerField("Business id (retailers only)", validators=[Optional()],
                               description="The register id of the business this retailer belongs to.")
    active = BooleanField("Account enabled", default=True)
    password = PasswordField("Initial password", validators=[
        Optional(), Length(min=MIN_PASSWORD, message=f"Use at least {MIN_PASSWORD} characters.")],
        description="Leave blank when editing to keep the current password.")
    submit = SubmitField("Save user")

    def validate(self, extra_validators=None):
        # Checked here, not in an inline validator: Optional() stops the field's chain when it is empty.
        ok = super().validate(extra_validators)
        if self.role.data == Role.RETAILER and not self.business_id.data:
            self.business_id.errors = list(self.business_id.errors) + [
                "A retailer must belong to a business: give its register id."]
            ok = False
        if self.role.data != Role.RETAILER and self.business_id.data:
            self.business_id.errors = list(self.business_id.errors) + ["Only retailer accounts belong to a business."]
            ok = False
        if self.password.data and not self.password.errors:
            problem = password_problem(self.password.data, (self.email.data or "", self.name.data or ""))
            if problem:
                self.password.errors = list(self.password.errors) + [problem]
                ok = False
        return ok


_LOW, _HIGH = VOLUNTEER_AGE_BOUNDS
_AGE_MESSAGE = f"Give a whole number of years from {_LOW} to {_HIGH}."


def one_line(form, field) -> None:
    """A value that goes into a header or one line of a letter: a line break (sent by hand, a browser's text box
    cannot) would split the monitor's User-Agent header and break every fetch (issue 14)."""
    if field.data and any(ch in field.data for ch in "\r\n\x0b\x0c\x85\u2028\u2029"):
        raise ValidationError("Write this on one line (no line breaks).")


class SettingsForm(FlaskForm):
    """One authority's own settings; the field names are the setting keys."""

    authority_name = StringField("Authority name (on letters)", validators=[DataRequired(), Length(max=200),
                                                                             one_line])
    letterhead_address = StringField("Letterhead address", validators=[Length(max=400)])
    letterhead_phone = StringField("Letterhead telephone", validators=[Length(max=60), one_line])
    letterhead_email = StringField("Letterhead email", validators=[Length(max=200), one_line])
    contact_url = StringField("Contact URL (shown to shops our monitor visits)", validators=[Length(max=300),
                                                                                            one_line])
    letter_signatory = StringField("Letters are signed by", validators=[Length(max=200)],
                                   description="The name or post that signs letters to businesses.")
    volunteer_min_age = IntegerField("Youngest volunteer age", validators=[
        InputRequired(_AGE_MESSAGE), NumberRange(_LOW, _HIGH, _AGE_MESSAGE)])
    volunteer_max_age = IntegerField("Oldest volunteer age", validators=[
        InputRequired(_AGE_MESSAGE), NumberRange(_LOW, _HIGH, _AGE_MESSAGE)],
        description=f"Volunteers must be at least 18 months under 18: {_HIGH} is the oldest this service allows.")
    submit = SubmitField("Save settings")

    KEYS = ("authority_name", "letterhead_address", "letterhead_phone", "letterhead_email", "contact_url",
            "letter_signatory", "volunteer_min_age", "volunteer_max_age")

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        low, high = self.volunteer_min_age.data, self.volunteer_max_age.data
        in_bounds = not (self.volunteer_min_age.errors or self.volunteer_max_age.errors)
        if in_bounds and low > high:
            self.volunteer_max_age.errors = list(self.volunteer_max_age.errors) + [
                f"The oldest age cannot be below the youngest ({low})."]
            ok = False
        return ok

    def values(self) -> dict[str, str]:
        """The settings to save, as stored (text)."""
        return {key: str(self[key].data if self[key].data is not None else "").strip() for key in self.KEYS}
