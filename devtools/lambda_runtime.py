"""One Lambda execution environment, for devtools/deliver.py. Not imported by anything else.

deliver.py starts this file as a child process per function, the way Lambda starts a sandbox:

    python -s -P devtools/lambda_runtime.py
        cwd          the extracted artifact (Lambda's /var/task)
        PYTHONPATH   the extracted artifact, so `camblur` and its pure-Python dependencies come
                     from the built zip; what the zip carries compiled for another platform
                     (Pillow for linux arm64) was set aside by deliver.py, so those imports fall
                     through to the host's site-packages, as boto3 does (the Lambda runtime
                     provides boto3, and the zip leaves it out)
        environment  the deployed function configuration's variables plus Lambda's own
                     (_HANDLER, AWS_LAMBDA_FUNCTION_NAME, ...) and nothing of the parent's

`-s` drops the user site, `-P` keeps this file's folder (devtools/) off sys.path.

Protocol: one JSON request per line on stdin ({"requestId", "event", "deadlineMs", ...}), one
JSON answer per line on the original stdout ({"requestId", "ok", "payload"} where payload is the
handler's result or Lambda's error shape {"errorType", "errorMessage", "stackTrace"}). The
function's own stdout and stderr (Powertools' JSON logs) go to stderr, which deliver.py writes
to the function's log file, as CloudWatch Logs would receive them.

The handler is imported once at start (Lambda's init phase): a missing module or attribute
fails every invocation with Lambda's error types, Runtime.ImportModuleError and
Runtime.HandlerNotFound.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import time
import traceback
from pathlib import Path
from typing import Any


class Context:
    """The attributes of Lambda's context object that handlers and Powertools read."""

    def __init__(self, request: dict[str, Any]) -> None:
        self.function_name = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        self.invoked_function_arn = request["functionArn"]
        self.memory_limit_in_mb = int(os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128"))
        self.aws_request_id = request["requestId"]
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME", "")
        self.log_stream_name = f"local/{self.aws_request_id}"
        self.identity = None
        self.client_context = None
        self._deadline_ms = int(request["deadlineMs"])

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self._deadline_ms - int(time.time() * 1000))


def load_handler() -> tuple[Any, dict[str, Any] | None]:
    """Import _HANDLER ("package.module.function") from the task root; Lambda's init errors."""
    spec = os.environ["_HANDLER"]
    module_name, _, function_name = spec.rpartition(".")
    task_root = Path(os.environ["LAMBDA_TASK_ROOT"]).resolve()
    try:
        module = importlib.import_module(module_name)
    except Exception as error:
        return None, {
            "errorType": "Runtime.ImportModuleError",
            "errorMessage": f"Unable to import module '{module_name}': {error}",
            "stackTrace": traceback.format_exception(error),
        }
    origin = Path(getattr(module, "__file__", "") or "").resolve()
    if task_root not in origin.parents:
        # The whole point of running the artifact: never the repository's copy by accident.
        return None, {
            "errorType": "Runtime.ImportModuleError",
            "errorMessage": f"'{module_name}' was imported from {origin}, not from the artifact in {task_root}",
            "stackTrace": [],
        }
    handler = getattr(module, function_name, None)
    if not callable(handler):
        return None, {
            "errorType": "Runtime.HandlerNotFound",
            "errorMessage": f"Handler '{function_name}' missing on module '{module_name}'",
            "stackTrace": [],
        }
    return handler, None


def main() -> None:
    answers = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)  # from here on, fd 1 (print, Powertools) is the function's log
    sys.stdout = os.fdopen(1, "w", buffering=1)

    handler, init_error = load_handler()
    for line in sys.stdin:
        request = json.loads(line)
        answer: dict[str, Any] = {"requestId": request["requestId"]}
        if init_error is not None:
            answer |= {"ok": False, "payload": init_error}
        else:
            try:
                result = handler(request["event"], Context(request))
                try:
                    answer |= {"ok": True, "payload": json.loads(json.dumps(result))}
                except (TypeError, ValueError) as error:
                    answer |= {
                        "ok": False,
                        "payload": {
                            "errorType": "Runtime.MarshalError",
                            "errorMessage": f"Unable to marshal response: {error}",
                            "stackTrace": [],
                        },
                    }
            except Exception as error:
                answer |= {
                    "ok": False,
                    "payload": {
                        "errorType": type(error).__name__,
                        "errorMessage": str(error),
                        "stackTrace": traceback.format_exception(error),
                    },
                }
        sys.stdout.flush()
        sys.stderr.flush()
        answers.write(json.dumps(answer) + "\n")


if __name__ == "__main__":
    main()
