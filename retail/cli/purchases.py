"""`flask letters-due` and `flask retests-due`: what the test-purchase team still has to do."""
import click
from flask.cli import with_appcontext

from .. import purchases as P


@click.command("letters-due")
@with_appcontext
def letters_due_command():
    """List notification letters not yet sent (oldest first)."""
    letters = P.unsent_letters()
    for letter in letters:
        tp = letter.test_purchase
        click.echo(f"{letter.id:>7}  drafted {letter.drafted_on.isoformat()}  {tp.outcome_label:<40} "
                   f"{letter.recipient_name} — {tp.target_name}")
    click.echo(f"{len(letters)} letter(s) to send. Print them at /letters/print.")


@click.command("retests-due")
@click.option("--days", default=30, show_default=True, help="Also list retests due within this many days.")
@with_appcontext
def retests_due_command(days):
    """List overdue retests and those due soon."""
    data = P.retests_due(within_days=days, limit=1000)
    for item in data["items"]:
        state = f"{-item['days']} days overdue" if item["overdue"] else f"due in {item['days']} days"
        click.echo(f"{item['action'].due_on.isoformat()}  {state:<18} {item['business']} — {item['target']} "
                   f"{item['postcode']}  (test purchase {item['action'].test_purchase_id})")
    click.echo(f"{data['overdue']} overdue, {data['due_soon']} due within {days} days.")


COMMANDS = [letters_due_command, retests_due_command]
