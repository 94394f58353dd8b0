"""Deterministic, fictional demo data at three scales, generated with bulk inserts.

Each area adds a generator to GENERATORS; they run in order and share a DemoContext (the random source, the
scale, and the ids created so far), so later areas build on the register this module creates.
"""
import random
import secrets
from dataclasses import dataclass, field
from datetime import date
from collections.abc import Callable

import click
import sqlalchemy as sa

from ..bulk import copy_dicts
from ..extensions import db

# demo_share: of the London shops, the share placed in the demo boroughs (Hackney, Croydon, Westminster), so the
# organisations a new user signs in to have shops, operations and cases of their own.
SCALES = {
    "small": {"businesses": 60, "premises": 75, "stores": 15, "outside_share": 0.0, "demo_share": 0.6},
    "london": {"businesses": 3200, "premises": 4000, "stores": 600, "outside_share": 0.0, "demo_share": 0.12},
    "uk": {"businesses": 190_000, "premises": 250_000, "stores": 20_000, "outside_share": 0.97, "demo_share": 0.12},
}


@dataclass
class DemoContext:
    scale: str
    rng: random.Random
    today: date
    password: str
    params: dict
    business_ids: list[int] = field(default_factory=list)
    # id, business_id, borough, authority (code of the authority whose area it is in), business_type, status
    premises: list[dict] = field(default_factory=list)
    store_ids: list[int] = field(default_factory=list)
    users: dict[str, int] = field(default_factory=dict)  # "authority code:key" (e.g. "hackney:officer") -> user id
    authorities: dict[str, int] = field(default_factory=dict)  # authority code -> id
    demo_business_id: int | None = None  # the Hackney retailer's business
    extra: dict = field(default_factory=dict)

    def progress(self, iterable=None, label: str = "", length: int | None = None):
        return click.progressbar(iterable, label=label.ljust(28), length=length, show_eta=False, show_pos=True)


GENERATORS: list[Callable[[DemoContext], None]] = []


def generator(func):
    GENERATORS.append(func)
    return func


def next_id(table) -> int:
    return (db.session.scalar(sa.select(sa.func.max(table.c.id))) or 0) + 1


def bulk_insert(table, rows: list[dict], chunk: int = 5000) -> None:
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":  # COPY: an INSERT per row made the UK seed miss its 3 minutes
        copy_dicts(connection, table, rows)
        return
    for start in range(0, len(rows), chunk):
        db.session.execute(sa.insert(table), rows[start:start + chunk])


def reset_sequences() -> None:
    """After inserting explicit ids, move PostgreSQL's sequences past them (SQLite needs nothing)."""
    if db.engine.dialect.name != "postgresql":
        return
    for table in db.metadata.sorted_tables:
        if "id" in table.c and isinstance(table.c.id.type, sa.Integer) and table.c.id.primary_key:
            db.session.execute(sa.text(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                f"COALESCE((SELECT MAX(id) FROM {table.name}), 0) + 1, false)"))


def refresh_planner_statistics() -> None:
    """PostgreSQL: ANALYZE after a bulk load, so the next generator's queries (the scores above all) are planned for
    the rows just written. Without it the planner takes the fresh tables for nearly empty, and at UK scale the
    rescore's join of follow-up actions to test purchases ran for over five minutes instead of seconds. ANALYZE
    inside the seed's transaction sees its uncommitted rows; autovacuum would not until the commit."""
    if db.engine.dialect.name == "postgresql":
        db.session.execute(sa.text("ANALYZE"))


def seed(scale: str, password: str | None, seed_value: int) -> DemoContext:
    from . import register  # noqa: F401  (registers the register generator first)

    load_area_generators()
    ctx = DemoContext(scale=scale, rng=random.Random(seed_value), today=date.today(),
                      password=password or secrets.token_urlsafe(12), params=SCALES[scale])
    for gen in sorted(GENERATORS, key=_generator_rank):
        gen(ctx)
        db.session.flush()
        # Later generators add some rows through the ORM (refusals, naming cases): PostgreSQL's sequences must be
        # past the ids bulk-inserted so far.
        reset_sequences()
        refresh_planner_statistics()
    db.session.commit()
    return ctx


AREA_ORDER = ("register", "purchases", "training", "visits", "monitor", "compliance")


def _generator_rank(gen) -> int:
    """Generators run in the order the areas depend on each other, whatever order their modules were imported in
    (a test importing one area's generator first must not make it run before the register exists)."""
    area = gen.__module__.rsplit(".", 1)[-1]
    return AREA_ORDER.index(area) if area in AREA_ORDER else len(AREA_ORDER)


def load_area_generators() -> None:
    """Import the generators of later areas, if present, in the order they depend on each other."""
    import importlib

    for name in AREA_ORDER[1:]:
        try:
            importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise
