"""Lambda 1, live_blur: S3 ObjectCreated on the raw bucket → blurred copy + state."""

from __future__ import annotations

from functools import cache
from typing import Any

from camblur import config
from camblur.adapters.rekognition import PeopleDetector
from camblur.adapters.state import BlurStateTable
from camblur.adapters.storage import PictureStore
from camblur.core.errors import TransientError
from camblur.events import uploaded_objects
from camblur.live_pass import LivePass
from camblur.observability import logger, metrics
from camblur.plates import make_localiser


@cache
def live_pass() -> LivePass:
    """Built once per Lambda process; a bad environment variable fails here, by name."""
    settings = config.load(config.LiveConfig)
    return LivePass(
        settings,
        PictureStore(),
        BlurStateTable(settings.state_table),
        PeopleDetector(settings.person_min_confidence),
        make_localiser(settings.plate_detector),
    )


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Process every record; if any failed transiently, raise after the others are done."""
    service = live_pass()
    outcomes, failures = [], []
    for upload in uploaded_objects(event):
        try:
            outcomes.append(service.process(upload))
        except Exception as error:
            logger.exception(
                "picture failed; Lambda will retry", bucket=upload.bucket, key=upload.key
            )
            failures.append(f"{upload.key}: {error}")
    if failures:
        # Done records are skipped as duplicates on retry; only the failed ones cost again.
        raise TransientError(f"{len(failures)} picture(s) failed: {'; '.join(failures)}")
    return {"processed": [outcome.__dict__ for outcome in outcomes]}
