"""Click commands for operator tasks, one module per area; `flask --app wsgi --help` lists them."""
import importlib

from . import accounts, authorities, demo, register

COMMANDS = [accounts.create_user_command, *authorities.COMMANDS, register.import_register_command,
            register.export_register_command, demo.seed_demo_command]

# Later areas add their commands by listing them in their module's COMMANDS.
for _name in ("purchases", "training", "monitor", "compliance", "retention", "letters"):
    try:
        COMMANDS.extend(importlib.import_module(f"{__name__}.{_name}").COMMANDS)
    except ModuleNotFoundError as exc:
        if exc.name != f"{__name__}.{_name}":
            raise
