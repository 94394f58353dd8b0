"""`flask score` (recompute compliance scores now and print them) and `flask naming-expire`."""
import json

import click
from flask.cli import with_appcontext

from ..audit import acting_as
from ..extensions import db
from ..timeutil import today_london


@click.command("score")
@click.option("--business-id", type=int, default=None, help="Recompute one business only.")
@click.option("--json", "as_json", is_flag=True, help="Print the scores with their factors as JSON.")
@with_appcontext
def score_command(business_id, as_json):
    """Recompute compliance scores now (all businesses, or one) and print them."""
    from .. import scoring
    from ..models.register import Business

    with acting_as("cli:score"):
        if business_id is not None:
            if db.session.get(Business, business_id) is None:
                raise click.ClickException(f"No business with id {business_id}.")
            scores = scoring.rescore_businesses([business_id])
        else:
            rules = scoring.current_rules()
            today = today_london()
            scores = scoring.compute_scores(None, today, rules=rules)
            scoring.store_scores(scores, rules.version, today)
            db.session.commit()
    if as_json:
        click.echo(json.dumps(scoring.score_json(scores), indent=2))
        return
    listed = sorted(scores.values(), key=lambda s: (-s.total, s.business_id))
    names = {row["business_id"]: row["name"] for row in scoring.score_json({s.business_id: s for s in listed[:50]})}
    for s in listed[:50]:
        flag = " CANDIDATE" if s.candidate else (" (held: enforcement pending)" if s.enforcement_pending else "")
        click.echo(f"{s.business_id:>7} {names.get(s.business_id, '')[:40]:<40} {s.total:>4} "
                   f"{scoring.BAND_LABELS[s.band]}{flag}")
        if business_id is not None:
            for f in s.factors:
                on = str(f.on or "")
                click.echo(f"          {f.points:>+4}  {f.kind:<24} {on:<10} {f.record:<22} {f.description}")
    if len(listed) > 50:
        click.echo(f"... and {len(listed) - 50} more (use --json for all).")
    bands = {}
    for s in scores.values():
        bands[s.band] = bands.get(s.band, 0) + 1
    click.echo("Bands: " + ", ".join(f"{scoring.BAND_LABELS[b]} {n}" for b, n in sorted(bands.items())) +
               f"; candidates {sum(1 for s in scores.values() if s.candidate)}")


@click.command("naming-expire")
@with_appcontext
def naming_expire_command():
    """Remove published naming entries whose publication period has ended."""
    from ..naming import expire_published

    with acting_as("cli:naming-expire"):
        count = expire_published()
        db.session.commit()
    click.echo(f"Removed {count} expired entr{'y' if count == 1 else 'ies'}.")


COMMANDS = [score_command, naming_expire_command]
