"""Register forms: business, shop, online store, Responsible Retailers Agreement, CSV import."""
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import (BooleanField, DateField, EmailField, SelectField, SelectMultipleField, StringField, SubmitField,
                     TextAreaField)
from wtforms.validators import DataRequired, Email, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from ..boroughs import BOROUGH_CHOICES, OUTSIDE_LONDON
from ..models.register import (BUSINESS_TYPE_LABELS, DISPLAY_LABELS, PLATFORM_LABELS, RRA_COMMITMENTS,
                               RRA_SCHEME_LABELS, PremisesStatus)
from . import SubmitOnceForm, UKPostcode, VersionedForm, WebAddress
from flask_wtf import FlaskForm


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _choices(labels):
    return [(k.value if hasattr(k, "value") else k, v) for k, v in labels.items()]


SELLS_CHOICES = [
    ("kitchen", "Kitchen / domestic knives"), ("folding", "Folding / pocket knives"), ("multi-tool", "Multi-tools"),
    ("craft", "Craft knives and blades"), ("garden", "Garden tools, axes, machetes"), ("razors", "Razors"),
    ("swords", "Swords / martial arts"), ("other", "Other bladed articles"),
]


class BusinessFields:
    legal_name = StringField("Legal name", validators=[DataRequired(), Length(max=200)])
    trading_name = StringField("Trading name", validators=[Optional(), Length(max=200)],
                               description="The name over the door. Leave blank if the same as the legal name.")
    other_trading_names = TextAreaField("Other trading names", validators=[Optional(), Length(max=2000)],
                                        description="One per line.", render_kw={"rows": 2})
    company_number = StringField("Company number", validators=[Optional(), Length(max=16)])
    business_type = SelectField("Type", choices=_choices(BUSINESS_TYPE_LABELS), validators=[DataRequired()])
    head_office_address = TextAreaField("Head office address", validators=[Optional(), Length(max=1000)],
                                        render_kw={"rows": 2})
    head_office_postcode = StringField("Head office postcode", validators=[UKPostcode(optional=True)])
    contact_name = StringField("Contact name", validators=[Optional(), Length(max=120)])
    contact_email = EmailField("Contact email", validators=[Optional(), Email(check_deliverability=False),
                                                            Length(max=254)])
    contact_phone = StringField("Contact phone", validators=[Optional(), Length(max=40)])
    primary_authority = StringField("Primary Authority partner", validators=[Optional(), Length(max=120)],
                                    description="The council in a Primary Authority partnership, if any.")
    external_ref = StringField("Council reference", validators=[Optional(), Length(max=64)],
                               description="The id in the council's own system (used to match CSV imports).")
    notes = TextAreaField("Notes", validators=[Optional(), Length(max=5000)], render_kw={"rows": 3})


class PremisesFields:
    name = StringField("Shop name", validators=[DataRequired(), Length(max=200)])
    address_line1 = StringField("Address", validators=[DataRequired(), Length(max=200)])
    address_line2 = StringField("Address line 2", validators=[Optional(), Length(max=200)])
    town = StringField("Town", default="London", validators=[Optional(), Length(max=100)])
    postcode = StringField("Postcode", validators=[UKPostcode()],
                           render_kw={"autocapitalize": "characters", "data-borough-target": "borough"})
    borough = SelectField("Borough", choices=[("", "Choose…")] + BOROUGH_CHOICES,
                          validators=[DataRequired(message="Choose the borough.")])
    local_authority = StringField("Local authority (outside London)", validators=[Length(max=100)])
    sells = MultiCheckboxField("What it sells", choices=SELLS_CHOICES)
    display = SelectField("How knives are displayed", choices=[("", "Not recorded")] + _choices(DISPLAY_LABELS))
    status = SelectField("Status", choices=[(s.value, s.value.title()) for s in PremisesStatus], default="trading")

    def validate_local_authority(self, field):
        if self.borough.data == OUTSIDE_LONDON and not (field.data or "").strip():
            raise ValidationError("Name the local authority for a shop outside London.")


class BusinessCreateForm(BusinessFields, SubmitOnceForm):
    add_shop = BooleanField("Add its shop now", default=True)
    shop_name = StringField("Shop name", validators=[Optional(), Length(max=200)],
                            description="Leave blank to use the trading name.")
    shop_address_line1 = StringField("Shop address", validators=[Optional(), Length(max=200)])
    shop_address_line2 = StringField("Address line 2", validators=[Optional(), Length(max=200)])
    shop_town = StringField("Town", default="London", validators=[Optional(), Length(max=100)])
    shop_postcode = StringField("Shop postcode", validators=[UKPostcode(optional=True)],
                                render_kw={"autocapitalize": "characters", "data-borough-target": "shop_borough"})
    shop_borough = SelectField("Borough", choices=[("", "Choose…")] + BOROUGH_CHOICES, validators=[Optional()])
    shop_local_authority = StringField("Local authority (outside London)", validators=[Optional(), Length(max=100)])
    shop_sells = MultiCheckboxField("What it sells", choices=SELLS_CHOICES)
    shop_display = SelectField("How knives are displayed", choices=[("", "Not recorded")] + _choices(DISPLAY_LABELS))
    submit = SubmitField("Add business")

    def validate(self, extra_validators=None):
        ok = super().validate(extra_validators)
        if self.add_shop.data:
            for field, message in ((self.shop_address_line1, "Enter the shop's address."),
                                   (self.shop_postcode, "Enter the shop's postcode."),
                                   (self.shop_borough, "Choose the borough.")):
                if not (field.data or "").strip():
                    field.errors = list(field.errors) + [message]
                    ok = False
            if self.shop_borough.data == OUTSIDE_LONDON and not (self.shop_local_authority.data or "").strip():
                self.shop_local_authority.errors = list(self.shop_local_authority.errors) + [
                    "Name the local authority for a shop outside London."]
                ok = False
        return ok

    def premises_data(self) -> dict | None:
        if not self.add_shop.data:
            return None
        return {
            "name": self.shop_name.data or self.trading_name.data or self.legal_name.data,
            "address_line1": self.shop_address_line1.data, "address_line2": self.shop_address_line2.data,
            "town": self.shop_town.data, "postcode": self.shop_postcode.data, "borough": self.shop_borough.data,
            "local_authority": self.shop_local_authority.data, "sells": self.shop_sells.data,
            "display": self.shop_display.data,
        }


class BusinessEditForm(BusinessFields, VersionedForm):
    submit = SubmitField("Save changes")


class PremisesCreateForm(PremisesFields, SubmitOnceForm):
    submit = SubmitField("Add shop")


class PremisesEditForm(PremisesFields, VersionedForm):
    submit = SubmitField("Save changes")


class StoreFields:
    name = StringField("Store name", validators=[Optional(), Length(max=200)])
    base_url = StringField("Web address", validators=[DataRequired(), WebAddress()],
                           description="The shop's home page, or the seller's page on a marketplace.",
                           render_kw={"inputmode": "url"})
    platform = SelectField("Platform", choices=_choices(PLATFORM_LABELS))
    seller_id = StringField("Seller id on the marketplace", validators=[Length(max=120)])

    def validate_seller_id(self, field):
        if self.platform.data not in {"own-website"} and not (field.data or "").strip():
            raise ValidationError("Give the seller id for a marketplace store.")


class StoreCreateForm(StoreFields, SubmitOnceForm):
    submit = SubmitField("Add online store")


class StoreEditForm(StoreFields, VersionedForm):
    submit = SubmitField("Save changes")


class RraFields:
    scheme = SelectField("Scheme", choices=_choices(RRA_SCHEME_LABELS))
    scheme_other = StringField("Scheme name (if other)", validators=[Optional(), Length(max=120)])
    signed_on = DateField("Signed on", validators=[DataRequired()])
    premises_ids = MultiCheckboxField("Shops covered", coerce=int)
    signatory_name = StringField("Signed by (name)", validators=[DataRequired(), Length(max=120)])
    signatory_role = StringField("Their role", validators=[Optional(), Length(max=120)])
    ts_officer = StringField("Visiting Trading Standards officer", validators=[Optional(), Length(max=120)])
    police_officer = StringField("Visiting police officer", validators=[Optional(), Length(max=120)])
    commitments = MultiCheckboxField("Commitments accepted", choices=list(RRA_COMMITMENTS.items()))
    signage_given = BooleanField("Signage and sticker given")
    review_due = DateField("Review due", validators=[Optional()])

    def validate_review_due(self, field):
        if field.data and self.signed_on.data and field.data <= self.signed_on.data:
            raise ValidationError("The review date must be after the signing date.")

    def validate_commitments(self, field):
        if not field.data:
            raise ValidationError("Tick the commitments the business accepted.")


class RraCreateForm(RraFields, SubmitOnceForm):
    submit = SubmitField("Record signature")


class RraEditForm(RraFields, VersionedForm):
    submit = SubmitField("Save changes")


class RraStatusForm(VersionedForm):
    status = SelectField("New status", choices=[("suspended", "Suspended"), ("withdrawn", "Withdrawn"),
                                                ("active", "Active (reinstate)")])
    on = DateField("Date", validators=[DataRequired()])
    reason = TextAreaField("Reason", validators=[Optional(), Length(max=2000)], render_kw={"rows": 2})
    submit = SubmitField("Change status")


class ImportForm(FlaskForm):
    file = FileField("Register CSV", validators=[FileRequired("Choose a CSV file."),
                                                 FileAllowed(["csv", "txt"], "Upload a .csv file.")])
    submit = SubmitField("Upload and preview")


class ConfirmImportForm(FlaskForm):
    submit = SubmitField("Import all rows")
