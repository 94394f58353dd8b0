"""`flask seed-demo`: fictional demo data at small, London or UK scale."""
import time

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from ..audit import acting_as
from ..demo import SCALES, seed
from ..demo.organisations import DEMO_ORGANISATIONS, DEMO_USERS
from ..extensions import db
from ..models.accounts import User
from ..models.authority import Authority
from ..models.register import Business


@click.command("seed-demo")
@click.option("--scale", type=click.Choice(list(SCALES)), default="small", show_default=True)
@click.option("--password", help="Password for every demo user (default: a random one, printed).")
@click.option("--seed", "seed_value", type=int, default=2017, show_default=True, help="Random seed.")
@click.option("--if-empty", is_flag=True, help="Do nothing if the register already has businesses.")
@with_appcontext
def seed_demo_command(scale, password, seed_value, if_empty):
    """Fill the database with deterministic, realistic, fictional demo data: Hackney, Croydon and Westminster
    Trading Standards, the Met's test-purchase team and City Hall, each with its own users."""
    existing = db.session.scalar(sa.select(sa.func.count()).select_from(Business))
    if existing:
        if if_empty:
            click.echo(f"The register already has {existing} businesses; not seeding again.")
            if not db.session.scalar(sa.select(User.id).where(User.email == DEMO_USERS[0][2])):
                click.echo("Its users are not the demo logins listed (it was seeded before authorities existed, or "
                           "is not a demo database): `make clean-demo` seeds a fresh demo.", err=True)
            return
        raise click.ClickException(f"The register already has {existing} businesses. Seed an empty database "
                                   "(or pass --if-empty to skip quietly).")
    started = time.monotonic()
    with acting_as("cli:seed-demo"):
        ctx = seed(scale, password, seed_value)
    click.echo(f"Seeded the {scale} demo in {time.monotonic() - started:.1f} s.")
    click.echo("Demo users (password: " + (ctx.password if not password else "as given") + "), by organisation:")
    for line in demo_login_lines():
        click.echo(line)


def demo_login_lines() -> list[str]:
    """The demo logins grouped by organisation: each sees only its own volunteers, operations and cases."""
    names = dict(db.session.execute(sa.select(Authority.code, Authority.name)).all())
    lines = []
    for code in DEMO_ORGANISATIONS:
        lines.append(f"  {names.get(code, code)}")
        for _code, _key, email, name, role in (u for u in DEMO_USERS if u[0] == code):
            lines.append(f"    {email:<30} {role.value:<11} {name}")
    return lines
