"""The Lambda context object, as the runtime passes it to a handler."""

from dataclasses import dataclass


@dataclass
class LambdaContext:
    function_name: str = "camblur-test-live-blur"
    memory_limit_in_mb: int = 1024
    invoked_function_arn: str = (
        "arn:aws:lambda:eu-west-1:123456789012:function:camblur-test-live-blur"
    )
    aws_request_id: str = "52fdfc07-2182-154f-163f-5f0f9a621d72"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000
