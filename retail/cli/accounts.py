"""`flask create-user`: add an account from the command line, in an authority or partner organisation."""
import sys

import click
from flask.cli import with_appcontext

from ..access import Role
from ..accounts import create_user
from ..audit import acting_as
from ..extensions import db
from ..validation import InvalidValue
from .authorities import authority_option, resolve_authority


@click.command("create-user")
@click.argument("email")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@authority_option(required=True, help="The organisation the user works for: a borough slug (hackney, "
                  "city-of-london, ...), met, city-hall or lts (`flask authorities` lists them). A retailer: the "
                  "authority that manages their account.")
@click.option("--business-id", type=int, help="For retailers: the register id of their business.")
@click.option("--name", default="", help="Display name.")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input instead of prompting.")
@with_appcontext
def create_user_command(email, role, authority, business_id, name, password_stdin):
    """Create a user in an authority. The password is asked for with a hidden prompt (or read from stdin)."""
    organisation = resolve_authority(authority)
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        with acting_as("cli:create-user"):
            user = create_user(email, role, password, name, business_id, authority_id=organisation.id)
            db.session.commit()
    except InvalidValue as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from exc
    click.echo(f"Created {user.role.value} {user.email} in {organisation.name} (id {user.id}).")
