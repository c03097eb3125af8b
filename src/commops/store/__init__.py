"""The system of record (SQLAlchemy 2 + Alembic)."""
