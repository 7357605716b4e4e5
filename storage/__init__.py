"""Persistence: SQLModel tables, the database runner, named queries, migrations, the catalog."""
