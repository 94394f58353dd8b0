"""`flask authorities` and `flask add-authority`: the organisations sharing the deployment, and the `--authority CODE`
option of the commands that act for one."""
import difflib
import re

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from ..audit import acting_as
from ..authorities import authority_by_code
from ..extensions import db
from ..models.authority import AUTHORITY_KIND_LABELS, Authority, AuthorityKind

CODE_PATTERN = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
EXAMPLES = "a borough slug such as hackney, city-of-london or tower-hamlets, or met, city-hall or lts"


def authority_option(required: bool, help: str):
    return click.option("--authority", metavar="CODE", required=required, help=help)


def resolve_authority(code: str) -> Authority:
    """The active authority with this code, or a clear error naming the codes that exist."""
    authority = authority_by_code(code)
    if authority is None:
        codes = list(db.session.scalars(sa.select(Authority.code)))
        close = difflib.get_close_matches(code.strip().lower(), codes, n=3)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        raise click.ClickException(f"There is no authority with the code '{code}'.{hint} Use {EXAMPLES} "
                                   "(`flask --app wsgi authorities` lists every code).")
    if not authority.active:
        raise click.ClickException(f"{authority.name} ({authority.code}) is no longer active.")
    return authority


@click.command("authorities")
@with_appcontext
def authorities_command():
    """List the authorities and partner organisations with their codes (for --authority CODE)."""
    order = [AuthorityKind.LONDON_BOROUGH, AuthorityKind.POLICE, AuthorityKind.CITY_HALL, AuthorityKind.PARTNERSHIP,
             AuthorityKind.OTHER_AUTHORITY]
    rows = db.session.scalars(sa.select(Authority).order_by(Authority.code)).all()
    for kind in order:
        listed = [a for a in rows if a.kind == kind]
        if not listed:
            continue
        click.echo(f"{AUTHORITY_KIND_LABELS[kind]}:")
        for a in listed:
            click.echo(f"  {a.code:<24} {a.name}{'' if a.active else '  (inactive)'}")


@click.command("add-authority")
@click.argument("code")
@click.argument("name")
@with_appcontext
def add_authority_command(code, name):
    """Add a Trading Standards authority outside London, e.g. `add-authority kent "Kent County Council"`."""
    code, name = code.strip().lower(), " ".join(name.split())
    if not CODE_PATTERN.match(code) or len(code) > 40:
        raise click.ClickException("The code is a short slug of lower-case letters, digits and hyphens "
                                   "(e.g. kent, north-yorkshire), at most 40 characters.")
    if not name or len(name) > 200:
        raise click.ClickException("Give the authority's name (at most 200 characters).")
    existing = authority_by_code(code)
    if existing is not None:
        raise click.ClickException(f"The code '{code}' is already used by {existing.name}.")
    if db.session.scalar(sa.select(Authority.id).where(sa.func.lower(Authority.name) == name.lower())):
        raise click.ClickException(f"There is already an authority called {name}.")
    with acting_as("cli:add-authority"):
        authority = Authority(code=code, name=name, kind=AuthorityKind.OTHER_AUTHORITY)
        db.session.add(authority)
        db.session.commit()
    click.echo(f"Added {name} ({code}), an authority outside London. Add its users with "
               f"`flask --app wsgi create-user EMAIL --role admin --authority {code}`.")


COMMANDS = [authorities_command, add_authority_command]
