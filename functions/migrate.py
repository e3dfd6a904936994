"""Migrate Lambda: applies the SQL migrations. Invoked after a deploy; not on any public API."""

import os
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from ponto import migrations
from ponto.config import Settings
from ponto.store import connector

settings = Settings.from_env(os.environ)
logger = Logger(service=settings.service)


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    conn = connector(settings.database, application_name="ponto-migrate")()
    try:
        applied = migrations.apply(conn)
    finally:
        conn.close()
    logger.info("migrations applied", applied=applied)
    return {"applied": applied, "current": migrations.available()[-1].version}
