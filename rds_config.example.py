"""Database settings in the reference project's format.

Copy to rds_config.py (git-ignored) only where neither PONTO_DATABASE_URL nor the managed secret is
available; never commit a real password.
"""

db_host = "localhost"
db_port = 5432
db_username = "ponto"
db_password = "change-me"  # noqa: S105 - an example value, not a credential
db_name = "ponto"
