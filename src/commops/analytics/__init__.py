"""The analytics path: a Parquet snapshot of the activity stream, read by DuckDB through Ibis."""
