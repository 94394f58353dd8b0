"""`flask training-reminders`: expire overdue training invitations and list certificates about to expire."""
import click
from flask.cli import with_appcontext
from sqlalchemy.orm import selectinload

from .. import training as tr
from ..audit import acting_as
from ..extensions import db
from ..models.training import TrainingAttendance, TrainingInvitation
from ..timeutil import today_london


@click.command("training-reminders")
@click.option("--days", default=tr.REMINDER_DAYS, show_default=True,
              help="Certificates expiring within this many days.")
@click.option("--quiet", is_flag=True, help="Only print the counts.")
@with_appcontext
def training_reminders_command(days, quiet):
    """Mark invitations past their reply deadline as 'no response', then list expiring certificates."""
    today = today_london()
    with acting_as("cli:training-reminders"):
        expired = tr.expire_overdue_invitations(today)
        db.session.commit()
    click.echo(f"{expired} invitation(s) past their deadline marked 'no response'.")
    query = tr.expiring_certificates_query(today, days)
    click.echo(f"{tr.count(query)} certificate(s) expire within {days} days.")
    if not quiet:
        for a in db.session.scalars(query.options(selectinload(TrainingAttendance.business))):
            click.echo(f"  {a.certificate_expires.isoformat()}  {a.certificate_number}  {a.person_name}  "
                       f"({a.business.display_name})")
    click.echo(f"{tr.count(tr.no_response_query())} invitation(s) with no response to follow up.")
    if not quiet:
        for i in db.session.scalars(tr.no_response_query().options(selectinload(TrainingInvitation.business))
                                    .limit(200)):
            click.echo(f"  due {i.deadline.isoformat()}  invitation {i.id}  {i.business.display_name}")


COMMANDS = [training_reminders_command]
