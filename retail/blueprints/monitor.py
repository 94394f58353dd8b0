"""Listing monitor pages: the store page's monitoring section, listings, alerts, settings and test purchase targets."""
from datetime import date

import sqlalchemy as sa
from flask import (Blueprint, Response, abort, current_app, flash, jsonify, redirect, render_template, request,
                   stream_with_context, url_for)
from flask_login import current_user
from sqlalchemy.orm.exc import StaleDataError
from wtforms import BooleanField, IntegerField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange

from .. import register as reg
from ..access import STAFF, roles_required
from ..extensions import db
from ..forms import SubmitOnceForm, VersionedForm
from ..home import panel
from ..models.listings import (AGE_LABELS, Listing, ListingCheck, ListingEvidence, ListingKind, MonitorAlert,
                               MonitorRun, StoreMonitor)
from ..models.register import OnlineStore
from ..nav import add_nav
from ..paging import ranked_page
from ..timeline import TimelineEvent, timeline_provider
from ..scrapers import evidence
from ..scrapers import monitor as mon
from ..scrapers import targets as T
from ..scrapers import scheduler  # noqa: F401  (NIGHTLY_JOBS lives there; importing it keeps the hook visible)
from ..timeutil import utcnow
from ..validation import InvalidValue

bp = Blueprint("monitor", __name__)

add_nav("Monitor", "monitor.index", STAFF, 30)
add_nav("Targets", "monitor.targets", STAFF, 31)


class MonitorSettingsForm(VersionedForm):
    start_urls = TextAreaField("Start pages (one address per line: category pages, delivery policy, sitemap.xml)",
                               render_kw={"rows": 4})
    interval_hours = IntegerField("Check every (hours)", validators=[NumberRange(min=1, max=24 * 90)], default=24)
    listing_cap = IntegerField("Most listings to check per store", validators=[NumberRange(min=1, max=1000)],
                               default=40)
    enabled = BooleanField("Monitoring switched on")
    needs_browser = BooleanField("The store needs JavaScript: read its pages with a browser (slower; only for stores "
                                 "whose products or age checks do not appear without it)")
    submit = SubmitField("Save settings")


class AddListingForm(SubmitOnceForm):
    url = StringField("Listing address", validators=[DataRequired(), Length(max=1000)],
                      render_kw={"placeholder": "https://…/product/…", "inputmode": "url"})
    submit = SubmitField("Add listing")


# What an officer needs first: the age wording (and what was discounted), then banned items, then the rest.
CUE_ORDER = {"strong": 0, "weak": 1, "negated": 2, "prohibited": 3, "decoy": 4, "out-of-scope": 5}


@bp.app_template_filter("why_first")
def why_first(cues):
    return sorted(cues or [], key=lambda cue: CUE_ORDER.get(cue.get("kind", ""), 9))


def _store(store_id: int) -> OnlineStore:
    return db.session.get(OnlineStore, store_id) or abort(404)


def plan_purchase_url(store_id: int, listing_url: str) -> str | None:
    """Link to the online test purchase form, pre-filled, if that area is installed."""
    if "purchases.new_online" not in current_app.view_functions:
        return None
    # `store` is what the purchases form reads today; online_store_id/listing_url are the agreed pre-fill names.
    return url_for("purchases.new_online", store=store_id, online_store_id=store_id, listing_url=listing_url)


# --- the store page section --------------------------------------------------------------------------------------

def store_section(store: OnlineStore, viewer) -> dict | None:
    if viewer is None or getattr(viewer, "role", None) not in STAFF:
        return None
    monitor = mon.monitor_for(store.id)
    verdict = T.store_verdict(store.id)
    listings = list(db.session.scalars(sa.select(Listing).where(Listing.online_store_id == store.id)
                                       .order_by(Listing.kind, Listing.id)))
    runs = list(db.session.scalars(sa.select(MonitorRun).where(MonitorRun.online_store_id == store.id)
                                   .order_by(MonitorRun.id.desc()).limit(10)))
    alerts = list(db.session.scalars(sa.select(MonitorAlert).where(MonitorAlert.online_store_id == store.id)
                                     .order_by(MonitorAlert.id.desc()).limit(10)))
    return {"title": "Listing monitor", "template": "monitor/_store_section.html", "store": store,
            "monitor": monitor, "verdict": verdict, "listings": listings, "runs": runs, "alerts": alerts,
            "add_form": AddListingForm(prefix="listing"), "age_labels": AGE_LABELS,
            "plan_url": plan_purchase_url}


reg.STORE_SECTIONS.append(store_section)


@panel
def alerts_panel(user) -> dict | None:
    if getattr(user, "role", None) not in STAFF:
        return None
    query = T.open_alerts_query()
    count = db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery()))
    alerts = list(db.session.scalars(query.limit(5)))
    return {"title": "Listing monitor alerts", "template": "monitor/_panel_alerts.html", "alerts": alerts,
            "count": count, "width": "col-lg-6"}


@timeline_provider
def alert_events(business, viewer) -> list[TimelineEvent]:
    """Monitor alerts on the business timeline, for staff only (retailers see their own portal)."""
    if viewer is None or getattr(viewer, "role", None) not in STAFF:
        return []
    rows = db.session.execute(
        sa.select(MonitorAlert, OnlineStore).join(OnlineStore, OnlineStore.id == MonitorAlert.online_store_id)
        .where(OnlineStore.business_id == business.id).order_by(MonitorAlert.id.desc()).limit(50)).all()
    return [TimelineEvent(when=alert.raised_at, kind="monitor", title=f"{alert.kind_label}: {store.display_name}",
                          detail=(f"{alert.before} → {alert.after}" if alert.before else alert.after),
                          url=url_for("register.store_view", store_id=store.id) + "#monitor",
                          tone="danger" if alert.kind == "prohibited_found" else "warning")
            for alert, store in rows]


# --- routes -------------------------------------------------------------------------------------------------------

@bp.route("/monitor")
@roles_required(STAFF)
def index():
    show = request.args.get("show", "open")
    query = T.open_alerts_query() if show == "open" else sa.select(MonitorAlert).order_by(MonitorAlert.id.desc())
    page = db.paginate(query, per_page=25, error_out=False)
    runs = list(db.session.scalars(sa.select(MonitorRun).order_by(MonitorRun.id.desc()).limit(10)))
    stores = {s.id: s for s in db.session.scalars(sa.select(OnlineStore).where(
        OnlineStore.id.in_({r.online_store_id for r in runs})))} if runs else {}
    counts = dict(db.session.execute(sa.select(StoreMonitor.age_check, sa.func.count()).group_by(
        StoreMonitor.age_check)).all())
    return render_template("monitor/index.html", page=page, show=show, runs=runs, stores=stores, counts=counts,
                           due=mon.due_monitor_count(), age_labels=AGE_LABELS)


@bp.route("/monitor/alerts/<int:alert_id>/acknowledge", methods=["POST"])
@roles_required(STAFF)
def acknowledge(alert_id: int):
    alert = db.session.get(MonitorAlert, alert_id) or abort(404)
    T.acknowledge(alert, current_user)
    db.session.commit()
    flash("Alert acknowledged.", "success")
    return redirect(request.form.get("next") or url_for("monitor.index"))


@bp.route("/stores/<int:store_id>/monitor/check", methods=["POST"])
@roles_required(STAFF)
def check_now(store_id: int):
    store = _store(store_id)
    mon.request_check(store, current_user.email)
    db.session.commit()
    flash("Check queued: the monitor will visit this store within a minute or two. This page shows its progress.",
          "success")
    return redirect(url_for("register.store_view", store_id=store.id) + "#monitor")


@bp.route("/stores/<int:store_id>/monitor/status.json")
@roles_required(STAFF)
def status(store_id: int):
    _store(store_id)
    monitor = mon.monitor_for(store_id)
    if monitor is None:
        return jsonify(monitored=False)
    return jsonify(monitored=True, running=monitor.running, queued=monitor.check_requested_at is not None,
                   done=monitor.progress_done, total=monitor.progress_total, age_check=monitor.age_check,
                   last_run_at=monitor.last_run_at.isoformat() if monitor.last_run_at else None,
                   last_result=monitor.last_result or {})


@bp.route("/stores/<int:store_id>/monitor/settings", methods=["GET", "POST"])
@roles_required(STAFF)
def settings(store_id: int):
    store = _store(store_id)
    # A store never monitored gets its row only when the settings are saved (a GET changes nothing).
    monitor = mon.ensure_monitor(store, due_now=True)
    form = MonitorSettingsForm(obj=monitor)
    if request.method == "GET":
        form.version.data = monitor.version
    if form.validate_on_submit():
        try:
            mon.update_settings(monitor, {"start_urls": form.start_urls.data,
                                          "interval_hours": form.interval_hours.data,
                                          "listing_cap": form.listing_cap.data, "enabled": form.enabled.data,
                                          "needs_browser": form.needs_browser.data},
                                form.version.data)
            db.session.commit()
        except reg.StaleRecord as exc:
            db.session.rollback()
            flash(str(exc), "danger")
        except StaleDataError:
            db.session.rollback()
            flash("Someone else saved these settings at the same moment. Reload to see their changes.", "danger")
        except InvalidValue as exc:
            db.session.rollback()
            form.start_urls.errors = list(form.start_urls.errors) + [str(exc)]
        else:
            flash("Monitor settings saved.", "success")
            return redirect(url_for("register.store_view", store_id=store.id) + "#monitor")
    return render_template("monitor/settings.html", form=form, store=store, monitor=monitor)


@bp.route("/stores/<int:store_id>/monitor/listings", methods=["POST"])
@roles_required(STAFF)
def add_listing(store_id: int):
    from ..idempotency import create_once

    store = _store(store_id)
    form = AddListingForm(prefix="listing")
    if not form.validate_on_submit():
        flash("Enter the address of the listing.", "danger")
        return redirect(url_for("register.store_view", store_id=store.id) + "#monitor")
    try:
        listing_id, created = create_once(form.submission_token.data, "Listing",
                                          lambda: mon.add_listing_by_hand(store, form.url.data, current_user.email),
                                          current_user.id)
    except InvalidValue as exc:
        flash(str(exc), "danger")
        return redirect(url_for("register.store_view", store_id=store.id) + "#monitor")
    flash("Listing added: it is checked on the store's next run (press “Check now” to check it straight away)."
          if created else "This form was already saved.", "success")
    return redirect(url_for("monitor.listing_view", listing_id=listing_id))


@bp.route("/monitor/listings/<int:listing_id>")
@roles_required(STAFF)
def listing_view(listing_id: int):
    listing = db.session.get(Listing, listing_id) or abort(404)
    checks = db.paginate(sa.select(ListingCheck).where(ListingCheck.listing_id == listing.id)
                         .order_by(ListingCheck.id.desc()), per_page=25, error_out=False)
    return render_template("monitor/listing.html", listing=listing, store=listing.store, checks=checks,
                           age_labels=AGE_LABELS, plan_url=plan_purchase_url(listing.online_store_id, listing.url)
                           if listing.kind != ListingKind.POLICY else None)


@bp.route("/monitor/checks/<int:check_id>/text")
@roles_required(STAFF)
def check_text(check_id: int):
    check = db.session.get(ListingCheck, check_id) or abort(404)
    if not check.page_text:
        abort(404)
    return Response(check.text, mimetype="text/plain; charset=utf-8",
                    headers={"Content-Security-Policy": "default-src 'none'", "X-Content-Type-Options": "nosniff"})


# --- evidence for the online test-purchase file (issue 13 part 5) ----------------------------------------------------

def _evidence_sheets(listings: list[Listing]) -> list[dict]:
    current = evidence.current_evidence([listing.id for listing in listings])
    return [{"listing": listing, "evidence": current.get(listing.id)} for listing in listings]


def _render_evidence(store: OnlineStore, listings: list[Listing]):
    from .. import retention

    # Why a sheet may have no page: a store the monitor still checks keeps the page of each verdict, so a missing
    # one predates the evidence; a store no longer checked loses it to the retention period.
    monitored = bool(db.session.scalar(sa.select(StoreMonitor.enabled).where(StoreMonitor.online_store_id == store.id)))
    return render_template("monitor/evidence.html", store=store, sheets=_evidence_sheets(listings),
                           age_labels=AGE_LABELS, now=utcnow(), monitored=monitored,
                           evidence_months=retention.evidence_months())


@bp.route("/monitor/listings/<int:listing_id>/evidence")
@roles_required(STAFF)
def listing_evidence(listing_id: int):
    """One printable evidence sheet: the page as fetched (URL, time, SHA-256), the screenshot, the words found."""
    listing = db.session.get(Listing, listing_id) or abort(404)
    return _render_evidence(listing.store, [listing])


@bp.route("/stores/<int:store_id>/monitor/evidence")
@roles_required(STAFF)
def store_evidence(store_id: int):
    """A target's evidence: one sheet per listing with a finding, for the online test-purchase file."""
    store = db.session.get(OnlineStore, store_id) or abort(404)
    ids = evidence.finding_listing_ids(store.id)
    listings = list(db.session.scalars(sa.select(Listing).where(Listing.id.in_(ids)).order_by(Listing.id))) if ids \
        else []
    return _render_evidence(store, listings)


def _evidence_row(evidence_id: int) -> ListingEvidence:
    return db.session.get(ListingEvidence, evidence_id) or abort(404)


@bp.route("/monitor/evidence/<int:evidence_id>/page.html.gz")
@roles_required(STAFF)
def evidence_page(evidence_id: int):
    """The page exactly as fetched, gzip-compressed: `gunzip -c FILE | sha256sum` gives the hash on the sheet."""
    row = _evidence_row(evidence_id)
    return Response(row.html_gz, mimetype="application/gzip", headers={
        "Content-Disposition": f'attachment; filename="listing-{row.listing_id}-{row.sha256[:12]}.html.gz"',
        "X-Content-Type-Options": "nosniff"})


@bp.route("/monitor/evidence/<int:evidence_id>/screenshot.png")
@roles_required(STAFF)
def evidence_screenshot(evidence_id: int):
    row = _evidence_row(evidence_id)
    if not row.screenshot_png:
        abort(404)
    return Response(row.screenshot_png, mimetype="image/png", headers={"X-Content-Type-Options": "nosniff",
                                                                       "Cache-Control": "private, max-age=3600"})


@bp.route("/monitor/targets")
@roles_required(STAFF)
def targets():
    # The page of ranked store ids and the total from the ranking's index, then those stores' rows.
    page = ranked_page(T.ranked_store_ids_query(), per_page=25)
    offset = (page.page - 1) * page.per_page
    rows = T.target_rows([store_id for (store_id,) in page.items])
    examples = T.risky_listings([row[1].id for row in rows])
    statuses = reg.rra_summary([row[2].id for row in rows])
    return render_template("monitor/targets.html", page=page, rows=rows, offset=offset, examples=examples,
                           statuses=statuses, age_labels=AGE_LABELS, plan_url=plan_purchase_url)


@bp.route("/monitor/targets.csv")
@roles_required(STAFF)
def targets_csv():
    filename = f"online-test-purchase-targets-{date.today().isoformat()}.csv"
    return Response(stream_with_context(T.csv_chunks(T.target_csv_rows())), mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename={filename}"})
