"""`flask apply-retention`: apply the retention schedule now, the authorities' and the monitor evidence's (the scheduler
also runs it nightly)."""
from datetime import date

import click
from flask.cli import with_appcontext

from ..extensions import db


def _report_lines(run) -> list[str]:
    from ..retention import EVIDENCE_REPORT_KEY, authority_reports

    verb = "would remove" if run.dry_run else "removed"
    lines = [f"Retention as of {run.as_of:%d %b %Y}{' (dry run: nothing changed)' if run.dry_run else ''}:"]
    for entry in authority_reports(run).values():
        lines.append(
            f"  {entry['authority']}: {verb} {entry['volunteers_erased']} volunteer(s) "
            f"({entry['volunteers_held_for_enforcement']} kept for enforcement); "
            f"unpublished {entry['naming_unpublished']} expired naming entr(y/ies); "
            f"{verb} personal data of {entry['naming_personal_data_erased']} naming case(s)")
    evidence = run.report.get(EVIDENCE_REPORT_KEY)
    if evidence:
        lines.append(
            f"  Listing monitor evidence (London-wide, {evidence['months']} months): {verb} "
            f"{evidence['evidence_pages_removed']} page(s) with {evidence['evidence_screenshots_removed']} "
            f"screenshot(s) last fetched before {evidence['removed_before']} "
            f"({evidence['evidence_held_for_enforcement']} kept for enforcement)")
    return lines


@click.command("apply-retention")
@click.option("--as-of", "as_of", default=None, help="Judge every period as if on this date (YYYY-MM-DD).")
@click.option("--dry-run", is_flag=True, help="Report what would be removed, change nothing.")
@with_appcontext
def apply_retention_command(as_of, dry_run):
    """Apply the retention schedule: erase volunteers, unpublish expired naming entries, erase personal data,
    remove the listing monitor's old evidence."""
    from .. import retention

    try:
        day = date.fromisoformat(as_of) if as_of else None
    except ValueError:
        raise click.BadParameter("use a date like 2026-12-31", param_hint="--as-of") from None
    run = retention.apply_retention(day, dry_run=dry_run, actor="cli:apply-retention")
    db.session.commit()  # a dry run changes nothing but keeps its report
    if not dry_run:
        retention.compact_storage()
    for line in _report_lines(run):
        click.echo(line)


COMMANDS = [apply_retention_command]
