"""The catalogue ETL: legacy SQLite exports in, cleaned movies out, loaded into a new index version and published.

`python -m etl --help` lists the commands.
"""
