"""`flask seed-demo`: fictional demo data at small, London or UK scale."""
import time

import click
import sqlalchemy as sa
from flask.cli import with_appcontext

from ..audit import acting_as
from ..demo import SCALES, seed
from ..demo.register import DEMO_USERS
from ..extensions import db
from ..models.register import Business


@click.command("seed-demo")
@click.option("--scale", type=click.Choice(list(SCALES)), default="small", show_default=True)
@click.option("--password", help="Password for every demo user (default: a random one, printed).")
@click.option("--seed", "seed_value", type=int, default=2017, show_default=True, help="Random seed.")
@click.option("--if-empty", is_flag=True, help="Do nothing if the register already has businesses.")
@with_appcontext
def seed_demo_command(scale, password, seed_value, if_empty):
    """Fill the database with deterministic, realistic, fictional demo data."""
    existing = db.session.scalar(sa.select(sa.func.count()).select_from(Business))
    if existing:
        if if_empty:
            click.echo(f"The register already has {existing} businesses; not seeding again.")
            return
        raise click.ClickException(f"The register already has {existing} businesses. Seed an empty database "
                                   "(or pass --if-empty to skip quietly).")
    started = time.monotonic()
    with acting_as("cli:seed-demo"):
        ctx = seed(scale, password, seed_value)
    click.echo(f"Seeded the {scale} demo in {time.monotonic() - started:.1f} s.")
    click.echo("Demo users (password: " + (ctx.password if not password else "as given") + "):")
    for _key, email, _name, role in DEMO_USERS:
        click.echo(f"  {role.value:<11} {email}")
