"""Receipts Lambda: the read routes (API Gateway REST, Lambda proxy integration).

Kiosk routes carry the device's API key (requestContext.identity.apiKeyId); personal routes carry the
employee's Cognito token, which API Gateway's authorizer has validated (requestContext.authorizer.claims).
The function's reserved concurrency caps the database connections it can hold: one per execution
environment (serverless.yml, receiptsConcurrency).
"""

import base64
import os
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from ponto.receipts.routes import Answer, Caller, ReceiptService
from ponto.receipts.settings import ReceiptSettings
from ponto.store import connector

settings = ReceiptSettings.from_env(os.environ)
logger = Logger(service=settings.service)
# Module scope: the connection and the signer live across warm invocations of this environment.
service = ReceiptService(
    connector(settings.database, application_name="ponto-receipts"), settings.inpi, settings.signer
)


@logger.inject_lambda_context
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = event.get("requestContext") or {}
    claims = (request.get("authorizer") or {}).get("claims") or {}
    caller = Caller(
        api_key_id=(request.get("identity") or {}).get("apiKeyId"),
        employer_document=claims.get("custom:employer"),
        employee_id=claims.get("custom:employee_id"),
    )
    headers = {name.lower(): value for name, value in (event.get("headers") or {}).items()}
    answer = service.answer(
        event.get("resource") or "",
        event.get("pathParameters") or {},
        event.get("queryStringParameters") or {},
        headers.get("accept"),
        caller,
    )
    return proxy_response(answer)


def proxy_response(answer: Answer) -> dict[str, Any]:
    """The Lambda proxy integration's response; a PDF goes base64 (binaryMediaTypes has application/pdf)."""
    binary = answer.content_type != "application/json"
    return {
        "statusCode": answer.status,
        "headers": {"Content-Type": answer.content_type, **answer.headers},
        "isBase64Encoded": binary,
        "body": base64.b64encode(answer.body).decode() if binary else answer.body.decode(),
    }
