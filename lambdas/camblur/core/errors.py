"""Errors with meaning: permanent ones are recorded and never retried, transient ones are retried."""


class PictureRejected(Exception):  # noqa: N818 - "rejected" is the outcome users see in the state table
    """The picture can never be anonymised as it is (not an image, truncated, too large...).

    Recorded as status REJECTED with `reason`; never retried, nothing is written to the blurred bucket.
    """

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


class TransientError(Exception):
    """A failure that may pass (throttling, a service hiccup): the caller lets AWS retry it."""
