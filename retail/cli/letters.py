"""`flask print-letters`: the week's letters as one PDF (marks nothing sent); `flask send-outbox`: deliver the
emails due now (the scheduler does this every minute); `flask staff-digest`: queue today's digests."""
from pathlib import Path

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from .. import letters as L
from ..audit import acting_as
from ..extensions import db
from ..letters import digest, outbox
from ..models.authority import Authority


@click.command("print-letters")
@click.option("-o", "--output", "output", required=True, type=click.Path(dir_okay=False, writable=True),
              help="Where to write the PDF, e.g. week.pdf")
@click.option("--authority", "authority_code", default=None, help="Only this authority's letters (its code).")
@with_appcontext
def print_letters_command(output, authority_code):
    """Every unsent letter of every kind in one PDF, by borough then postcode. Nothing is marked as sent: an officer
    confirms that on the week's letters page once they have gone."""
    items = L.week_letters()
    if authority_code:
        authority_id = db.session.scalar(sa.select(Authority.id).where(Authority.code == authority_code))
        if authority_id is None:
            raise click.BadParameter(f"No authority with the code {authority_code!r}.", param_hint="--authority")
        items = [item for item in items if item.authority_id == authority_id]
    if not items:
        click.echo("No letters are waiting to be sent; no PDF written.")
        return
    Path(output).write_bytes(L.letters_pdf(items))
    click.echo(f"{len(items)} letter(s) written to {output}. None has been marked as sent.")


@click.command("send-outbox")
@with_appcontext
def send_outbox_command():
    """Send the emails that are due now through the configured backend (RETAIL_MAIL_BACKEND)."""
    counts = outbox.deliver_due()
    click.echo(f"{counts['sent']} sent, {counts['retrying']} to retry, {counts['failed']} failed.")


@click.command("staff-digest")
@with_appcontext
def staff_digest_command():
    """Queue today's digest of their home page for every member of staff with an email address."""
    with acting_as("cli:staff-digest"):
        queued = digest.queue_staff_digests()
        db.session.commit()
    click.echo(f"{queued} digest(s) queued.")


COMMANDS = [print_letters_command, send_outbox_command, staff_digest_command]
