"""Forms for operations, volunteers, test purchases (in store and online, by stage), letters and follow-up actions."""
from flask_wtf import FlaskForm
from wtforms import (BooleanField, DateField, DecimalField, HiddenField, IntegerField, RadioField, SelectField,
                     SelectMultipleField, StringField, SubmitField, TextAreaField, TimeField)
from wtforms.validators import DataRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from ..boroughs import LONDON_BOROUGHS
from ..models.purchases import (ACTION_LABELS, ACTION_STATUS_LABELS, DELIVERED_TO_LABELS, DOB_LABELS,
                                KIND_LABELS, LEAD_AGENCY_LABELS, LETTER_CHANNEL_LABELS, STAFF_ACTION_LABELS)
from ..rules.enforcement import COURT_OUTCOME_LABELS
from ..rules.items import FEATURE_LABELS, category_choices
from . import SubmitOnceForm, VersionedForm


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class OptionalSelectField(SelectField):
    """A select whose blank ("not recorded") answer is valid even when the browser leaves it out."""

    def pre_validate(self, form):
        if self.data in (None, ""):
            return
        super().pre_validate(form)


def _choices(labels):
    return [(k.value, v) for k, v in labels.items()]


YES_NO = [("yes", "Yes"), ("no", "No")]
YES_NO_UNKNOWN = [("", "Not recorded"), ("yes", "Yes"), ("no", "No")]
# The item types the law tells apart (retail.rules.items), then the prohibited weapons recorded by type.
ITEM_CHOICES = category_choices()
BOROUGH_ONLY = [(b.code, b.name) for b in LONDON_BOROUGHS]


# --- operations and volunteers --------------------------------------------------------------------------------------

class OperationFields:
    name = StringField("Name", validators=[DataRequired(), Length(max=200)],
                       description="For example “Operation Sceptre, November week”.")
    lead_agency = SelectField("Lead agency", choices=_choices(LEAD_AGENCY_LABELS), default="trading-standards")
    boroughs = MultiCheckboxField("Boroughs", choices=BOROUGH_ONLY)
    starts_on = DateField("First day", validators=[DataRequired()])
    ends_on = DateField("Last day", validators=[DataRequired()])
    lead_officer_id = SelectField("Lead officer", coerce=int, validators=[Optional()])
    officer_ids = MultiCheckboxField("Officers taking part", coerce=int)
    risk_assessment_ref = StringField("Risk assessment reference", validators=[Optional(), Length(max=100)])
    authorisation_ref = StringField("Authorisation reference (if any)", validators=[Optional(), Length(max=100)])
    briefing_on = DateField("Briefing date", validators=[Optional()])
    notes = TextAreaField("Notes", validators=[Optional(), Length(max=5000)], render_kw={"rows": 2})


class OperationCreateForm(OperationFields, SubmitOnceForm):
    submit = SubmitField("Create operation")


class OperationEditForm(OperationFields, VersionedForm):
    submit = SubmitField("Save changes")


class VolunteerFields:
    code_name = StringField("Code name", validators=[DataRequired(), Length(max=40)],
                            description="The only name that appears on test purchase records.")
    date_of_birth = DateField("Date of birth", validators=[DataRequired()])
    areas_to_avoid = TextAreaField("Areas to avoid (home, school)", validators=[Optional(), Length(max=2000)],
                                   render_kw={"rows": 2})
    welfare_notes = TextAreaField("Welfare notes", validators=[Optional(), Length(max=2000)], render_kw={"rows": 2})
    active = BooleanField("Active", default=True)


class VolunteerCreateForm(VolunteerFields, SubmitOnceForm):
    submit = SubmitField("Add volunteer")


class VolunteerEditForm(VolunteerFields, VersionedForm):
    submit = SubmitField("Save changes")


class ConsentForm(SubmitOnceForm):
    volunteer_id = SelectField("Volunteer", coerce=int, validators=[DataRequired(message="Choose the volunteer.")])
    given_by = StringField("Consent given by (parent or guardian)", validators=[DataRequired(), Length(max=120)])
    relationship_to_volunteer = StringField("Relationship", default="Parent", validators=[Length(max=60)])
    given_on = DateField("Date consent given", validators=[DataRequired()])
    birth_certificate_checked_by = StringField("Birth certificate checked by",
                                               validators=[DataRequired(), Length(max=120)])
    photo_ref = StringField("Photo-on-the-day reference", validators=[Optional(), Length(max=100)])
    submit = SubmitField("Record consent")


# --- test purchases -------------------------------------------------------------------------------------------------

class ItemFields:
    """The item as the law sees it (brief 1.1, 1.4): what the verdict (article, exempt, prohibited) needs."""
    item_blade_length_cm = StringField("Blade (cutting edge) length, cm", validators=[Optional(), Length(max=12)],
                                       render_kw={"inputmode": "decimal"},
                                       description="Measured straight; a non-locking folding knife of 7.62 cm (3 in) "
                                                   "or less is exempt.")
    item_locking = OptionalSelectField("Blade locks", choices=YES_NO_UNKNOWN)
    item_features = MultiCheckboxField("Blade features (zombie-knife definition)", choices=_choices(FEATURE_LABELS))
    item_cartridge_exposure_under_2mm = OptionalSelectField("Cartridge razor: less than 2 mm of blade exposed",
                                                            choices=YES_NO_UNKNOWN)
    item_traditional_or_antique = OptionalSelectField("Curved sword: made before 1954 or hand-forged traditionally",
                                                      choices=YES_NO_UNKNOWN)


class SafeguardFields:
    """The code of practice's safeguards for this attempt (brief 2.2, 2.3)."""
    risk_assessment_ref = StringField("Risk assessment reference", validators=[Optional(), Length(max=100)],
                                      description="Left blank: the operation's.")
    officer_present = OptionalSelectField("An officer was present with the volunteer", choices=YES_NO_UNKNOWN)
    photo_on_day_ref = StringField("Photograph of the volunteer on the day (reference)",
                                   validators=[Optional(), Length(max=100)])


class InStoreFields(ItemFields, SafeguardFields):
    operation_id = SelectField("Operation", coerce=str, validators=[Optional()])
    kind = RadioField("Kind", choices=_choices(KIND_LABELS), default="underage")
    premises_query = StringField("Shop", validators=[Optional(), Length(max=200)],
                                 description="Type part of the shop's name or postcode.",
                                 render_kw={"autocomplete": "off", "data-premises-picker": "1"})
    premises_id = HiddenField()
    purchase_date = DateField("Date", validators=[DataRequired()])
    time_from = TimeField("From", validators=[Optional()])
    time_to = TimeField("To", validators=[Optional()])
    volunteer_id = SelectField("Volunteer (code name)", coerce=str, validators=[Optional()])
    tester_age = IntegerField("Tester's age (Challenge 25)", validators=[Optional(), NumberRange(min=0, max=99)])
    officer_inside = StringField("Officer inside", validators=[Optional(), Length(max=200)])
    officer_outside = StringField("Officer outside", validators=[Optional(), Length(max=200)])
    item_category = SelectField("Item tried", choices=ITEM_CHOICES, default="kitchen")
    item_description = StringField("Description", validators=[Optional(), Length(max=200)])
    item_price = DecimalField("Price (£)", places=2, validators=[Optional(), NumberRange(min=0)])
    staff_action = RadioField("What staff did", choices=_choices(STAFF_ACTION_LABELS), validators=[Optional()])
    sale_made = RadioField("Sold?", choices=[("yes", "Sold"), ("no", "Not sold")], validators=[Optional()])
    aborted = BooleanField("Aborted (safety or other reason): inconclusive")
    id_shown = StringField("ID shown", default="none", validators=[Optional(), Length(max=60)],
                           description="Volunteers carry no ID.")
    staff_description = TextAreaField("Description of the member of staff", validators=[Optional(), Length(max=2000)],
                                      render_kw={"rows": 2})
    signage_seen = OptionalSelectField("Challenge 25 signage seen", choices=YES_NO_UNKNOWN)
    knives_secure = OptionalSelectField("Knives displayed securely", choices=YES_NO_UNKNOWN)
    receipt_number = StringField("Receipt number", validators=[Optional(), Length(max=60)])
    item_retained = BooleanField("Item retained as exhibit")
    exhibit_ref = StringField("Exhibit reference", validators=[Optional(), Length(max=60)])
    notes = TextAreaField("Notes", validators=[Optional(), Length(max=5000)], render_kw={"rows": 2})


class InStoreCreateForm(InStoreFields, SubmitOnceForm):
    submit = SubmitField("Save attempt")


class InStoreEditForm(InStoreFields, VersionedForm):
    submit = SubmitField("Save changes")


class OrderFields(ItemFields, SafeguardFields):
    operation_id = SelectField("Operation", coerce=str, validators=[Optional()])
    kind = RadioField("Kind", choices=_choices(KIND_LABELS), default="underage")
    online_store_id = SelectField("Online store", coerce=str, validators=[DataRequired(message="Choose the store.")])
    listing_url = StringField("Listing address", validators=[DataRequired(), Length(max=1000)],
                              render_kw={"inputmode": "url"})
    purchase_date = DateField("Order date", validators=[DataRequired()])
    order_ref = StringField("Order reference", validators=[Optional(), Length(max=100)])
    volunteer_id = SelectField("Volunteer (code name)", coerce=str, validators=[Optional()])
    tester_age = IntegerField("Tester's age (Challenge 25)", validators=[Optional(), NumberRange(min=0, max=99)])
    officer_inside = StringField("Officer supervising", validators=[Optional(), Length(max=200)])
    account_details = TextAreaField("Account details used", validators=[Optional(), Length(max=2000)],
                                    render_kw={"rows": 2}, description="Name and cover address used; no real data.")
    dob_entered = OptionalSelectField("Date of birth entered", choices=[("", "Not recorded")] + _choices(DOB_LABELS))
    item_category = SelectField("Item ordered", choices=ITEM_CHOICES, default="kitchen")
    item_description = StringField("Description", validators=[Optional(), Length(max=200)])
    item_price = DecimalField("Price (£)", places=2, validators=[Optional(), NumberRange(min=0)])
    checkout_age_statement = OptionalSelectField("Age statement shown at checkout", choices=YES_NO_UNKNOWN)
    checkout_dob_asked = OptionalSelectField("Date of birth asked", choices=YES_NO_UNKNOWN)
    checkout_tickbox = OptionalSelectField("Tick-box / self-declaration only", choices=YES_NO_UNKNOWN)
    checkout_av_run = OptionalSelectField("Third-party age verification run", choices=YES_NO_UNKNOWN)
    checkout_av_provider = StringField("Provider", validators=[Optional(), Length(max=100)])
    checkout_av_result = StringField("Its result", validators=[Optional(), Length(max=200)])
    checkout_id_upload = OptionalSelectField("ID upload asked", choices=YES_NO_UNKNOWN)
    order_cancelled = OptionalSelectField("Order cancelled by the seller", choices=YES_NO_UNKNOWN)
    overseas_seller = OptionalSelectField("Seller based outside the UK", choices=YES_NO_UNKNOWN)
    notes = TextAreaField("Notes", validators=[Optional(), Length(max=5000)], render_kw={"rows": 2})


class OrderCreateForm(OrderFields, SubmitOnceForm):
    submit = SubmitField("Save order")


class OnlineEditForm(OrderFields, VersionedForm):
    dispatched_on = DateField("Dispatched on", validators=[Optional()])
    parcel_marked = OptionalSelectField("Parcel marked (bladed article, 18+ only)", choices=YES_NO_UNKNOWN)
    parcel_marking_text = StringField("Wording", validators=[Optional(), Length(max=500)])
    parcel_photo_ref = StringField("Photo reference", validators=[Optional(), Length(max=100)])
    courier = StringField("Courier", validators=[Optional(), Length(max=100)])
    courier_business_id = OptionalSelectField("Courier in the register (a party with its own letter)",
                                              choices=[("", "Not recorded")])
    courier_service = StringField("Service", validators=[Optional(), Length(max=100)])
    age_verified_service = OptionalSelectField("Age-verified delivery service", choices=YES_NO_UNKNOWN)
    delivered_on = DateField("Delivered on", validators=[Optional()])
    delivered_to = OptionalSelectField("Delivered to", choices=[("", "Not yet")] + _choices(DELIVERED_TO_LABELS))
    residential_premises = OptionalSelectField("Delivery address is residential premises", choices=YES_NO_UNKNOWN)
    received_by = StringField("Who received it", validators=[Optional(), Length(max=200)])
    delivery_id_asked = OptionalSelectField("ID asked by the courier", choices=YES_NO_UNKNOWN)
    delivery_dob_entered = OptionalSelectField("Date of birth entered on the courier's device", choices=YES_NO_UNKNOWN)
    left_unattended = OptionalSelectField("Left unattended", choices=YES_NO_UNKNOWN)
    left_with_neighbour = OptionalSelectField("Left with a neighbour", choices=YES_NO_UNKNOWN)
    signature_taken = OptionalSelectField("Signature taken", choices=YES_NO_UNKNOWN)
    submit = SubmitField("Save changes")


class DispatchForm(VersionedForm):
    dispatched_on = DateField("Dispatched on", validators=[DataRequired()])
    parcel_marked = OptionalSelectField("Parcel marked as containing a bladed article, for delivery only to 18+",
                                choices=YES_NO_UNKNOWN)
    parcel_marking_text = StringField("Wording on the parcel", validators=[Optional(), Length(max=500)])
    parcel_photo_ref = StringField("Photo reference", validators=[Optional(), Length(max=100)])
    courier = StringField("Courier", validators=[Optional(), Length(max=100)])
    courier_business_id = OptionalSelectField("Courier in the register (a party with its own letter)",
                                              choices=[("", "Not recorded")])
    courier_service = StringField("Service", validators=[Optional(), Length(max=100)])
    age_verified_service = OptionalSelectField("Age-verified delivery service", choices=YES_NO_UNKNOWN)
    submit = SubmitField("Save dispatch")


class DeliveryForm(VersionedForm):
    delivered_on = DateField("Delivered (or attempted) on", validators=[DataRequired()])
    delivered_to = SelectField("Delivered to", choices=_choices(DELIVERED_TO_LABELS))
    residential_premises = OptionalSelectField("Delivery address is residential premises", choices=YES_NO_UNKNOWN,
                                               description="Homes count; a business address does not (s.39).")
    received_by = StringField("Who received it", validators=[Optional(), Length(max=200)])
    delivery_id_asked = OptionalSelectField("ID asked", choices=YES_NO_UNKNOWN)
    delivery_dob_entered = OptionalSelectField("Date of birth entered on the courier's device", choices=YES_NO_UNKNOWN)
    left_unattended = OptionalSelectField("Left unattended", choices=YES_NO_UNKNOWN)
    left_with_neighbour = OptionalSelectField("Left with a neighbour", choices=YES_NO_UNKNOWN)
    signature_taken = OptionalSelectField("Signature taken", choices=YES_NO_UNKNOWN)
    submit = SubmitField("Save delivery")


class OutcomeForm(VersionedForm):
    inconclusive = BooleanField("The attempt was abandoned: record it as inconclusive")
    submit = SubmitField("Conclude: judge each party")


class AmendForm(VersionedForm):
    reason = TextAreaField("Reason for the amendment", validators=[DataRequired(message="Give the reason."),
                                                                   Length(max=2000)], render_kw={"rows": 2})


class InStoreAmendForm(InStoreEditForm, AmendForm):
    submit = SubmitField("Save amendment")


class OnlineAmendForm(OnlineEditForm, AmendForm):
    submit = SubmitField("Save amendment")


# --- letters and actions -----------------------------------------------------------------------------------------

class MarkSentForm(FlaskForm):
    letter_ids = MultiCheckboxField("Letters", coerce=int)
    sent_on = DateField("Sent on", validators=[DataRequired()])
    channel = SelectField("How", choices=_choices(LETTER_CHANNEL_LABELS), default="post")
    submit = SubmitField("Mark as sent")


class ActionFields:
    action_type = SelectField("Action", choices=_choices(ACTION_LABELS), default="retest")
    status = SelectField("Status", choices=_choices(ACTION_STATUS_LABELS), default="pending")
    decided_on = DateField("Decided on", validators=[DataRequired()])
    decided_by = StringField("Decided by", validators=[Optional(), Length(max=120)])
    due_on = DateField("Retest due by", validators=[Optional()],
                       description="Defaults to three months after the failed test.")
    completed_on = DateField("Completed on", validators=[Optional()])
    court = StringField("Court", validators=[Optional(), Length(max=120)])
    hearing_on = DateField("Hearing date", validators=[Optional()])
    court_result = StringField("Result (as the court gave it)", validators=[Optional(), Length(max=200)])
    court_outcome = OptionalSelectField("How the case ended", choices=[("", "Not decided yet")]
                                        + list(COURT_OUTCOME_LABELS.items()))
    primary_authority_notified_on = DateField("Primary Authority notified on", validators=[Optional()],
                                              description="Needed before a caution or prosecution of a business "
                                                          "with a Primary Authority.")
    fine = DecimalField("Fine (£)", places=2, validators=[Optional(), NumberRange(min=0)])
    costs = DecimalField("Costs (£)", places=2, validators=[Optional(), NumberRange(min=0)])
    notes = TextAreaField("Notes", validators=[Optional(), Length(max=5000)], render_kw={"rows": 2})


class ActionCreateForm(ActionFields, SubmitOnceForm):
    submit = SubmitField("Record action")


class ActionEditForm(ActionFields, VersionedForm):
    submit = SubmitField("Save changes")
