"""Blueprints, one per area. Each route declares who may use it (see retail.access)."""
from . import admin, auth, main, register

BLUEPRINTS = [auth.bp, main.bp, admin.bp, register.bp]
