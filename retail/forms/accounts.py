"""Sign-in, password and user administration forms."""
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, IntegerField, PasswordField, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional

from ..access import ROLE_LABELS, Role

MIN_PASSWORD = 10


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


def _role_choices():
    return [(r.value, ROLE_LABELS[r]) for r in Role]


class UserForm(FlaskForm):
    email = EmailField("Email", validators=[DataRequired(), Email(check_deliverability=False), Length(max=254)])
    name = StringField("Name", validators=[DataRequired(), Length(max=120)])
    role = SelectField("Role", choices=_role_choices(), validators=[DataRequired()])
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
        return ok


class SettingsForm(FlaskForm):
    authority_name = StringField("Authority name", validators=[DataRequired(), Length(max=200)])
    letterhead_address = StringField("Letterhead address", validators=[Length(max=400)])
    letterhead_phone = StringField("Letterhead telephone", validators=[Length(max=60)])
    letterhead_email = StringField("Letterhead email", validators=[Length(max=200)])
    contact_url = StringField("Contact URL (shown to shops our monitor visits)", validators=[Length(max=300)])
    submit = SubmitField("Save settings")
