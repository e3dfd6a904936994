"""The context object Lambda passes to a handler, for invoking the real handlers off AWS.

The local runner, the benchmarks and the tests call the handlers named in serverless.yml with it;
it carries what the handlers and Powertools read.
"""

from __future__ import annotations

import time
import uuid


class LambdaContext:
    def __init__(self, function_name: str = "ponto-local-worker", memory_limit_in_mb: int = 512, timeout_s: float = 60):
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = memory_limit_in_mb
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:000000000000:function:{function_name}"
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = "local"
        self._deadline = time.monotonic() + timeout_s

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))
