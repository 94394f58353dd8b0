"""`flask import-register` and `flask export-register`: the register as CSV."""
import sys
from contextlib import nullcontext

import click
from flask.cli import with_appcontext

from ..audit import acting_as
from ..register_csv import ImportFileError, apply_import, plan_import
from ..register_export import export_rows
from ..scoping import AUTHORITY, OutsideAuthority, Scope, acting_for
from .authorities import authority_option, resolve_authority


@click.command("import-register")
@click.argument("file", type=click.File("rb"))
@click.option("--dry-run", is_flag=True, help="Check every row and report; change nothing.")
@authority_option(required=False, help="The authority importing the file, whose council references its reference "
                  "column holds; the import runs as that authority (it may add shops anywhere, change only its own).")
@with_appcontext
def import_register_command(file, dry_run, authority):
    """Import a register CSV, all or nothing. Rows with errors are listed and nothing is imported."""
    content = file.read()
    organisation = resolve_authority(authority) if authority else None
    # Council references are each council's own: the import matches and records them as this authority's.
    scope = acting_for(Scope(AUTHORITY, organisation.id)) if organisation else nullcontext()
    with scope:
        plan = plan_import(content)
        for message in plan.file_errors:
            click.echo(f"error: {message}", err=True)
        for row in plan.error_rows:
            click.echo(f"line {row.line}: {'; '.join(row.errors)}", err=True)
        if plan.ignored_columns:
            click.echo("ignored columns: " + ", ".join(plan.ignored_columns))
        if not plan.ok:
            raise click.ClickException(f"Nothing imported: {len(plan.error_rows)} row(s) with errors."
                                       if plan.error_rows else "Nothing imported.")
        if organisation is None and any(row.values.get("external_ref") for row in plan.rows):
            click.echo("warning: the file has council references but no --authority: they are recorded as no "
                       "council's own, and an authority's officers will not find them by reference. Pass "
                       "--authority CODE (e.g. --authority hackney) to record them as that council's.", err=True)
        summary = ", ".join(f"{n} {action}" for action, n in sorted(plan.counts().items()))
        if dry_run:
            click.echo(f"Dry run: {len(plan.rows)} rows OK ({summary}). Nothing changed.")
            return
        try:
            with acting_as("cli:import-register"):
                counts = apply_import(content, plan=plan)
        except ImportFileError as exc:
            raise click.ClickException(str(exc)) from exc
        except OutsideAuthority as exc:
            raise click.ClickException(f"Nothing imported: the file changes shops in another authority's borough, "
                                       f"which only that authority may change ({organisation.name} imports its "
                                       "own).") from exc
    click.echo("Imported: " + ", ".join(f"{n} {what}" for what, n in counts.items()))


@click.command("export-register")
@click.option("--output", "-o", type=click.File("w", encoding="utf-8", lazy=True), default="-")
@with_appcontext
def export_register_command(output):
    """Write the register as CSV (the columns import-register accepts)."""
    for chunk in export_rows():
        output.write(chunk)
    if output is not sys.stdout:
        output.close()
