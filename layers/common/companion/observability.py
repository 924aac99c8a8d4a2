"""Powertools Logger, Metrics and (opt-in) Tracer shared by every function.

The X-Ray SDK behind Tracer costs about 0.3 s of cold start even when tracing is disabled,
so a Tracer is built only where `POWERTOOLS_TRACE_DISABLED` is explicitly "false"
(template parameter EnableTracing).
"""

from __future__ import annotations

import os
import warnings
from functools import lru_cache

from aws_lambda_powertools import Logger, Metrics

SERVICE = "course-companion"

# A pruner run that fails before it counts anything publishes no metric; Powertools would
# warn about that on top of the error itself.
warnings.filterwarnings("ignore", message="No application metrics to publish")

logger = Logger(service=SERVICE)
metrics = Metrics(namespace="CourseCompanion", service=SERVICE)


def tracing_enabled() -> bool:
    return os.environ.get("POWERTOOLS_TRACE_DISABLED", "true").lower() == "false"


@lru_cache(maxsize=1)
def tracer():
    from aws_lambda_powertools import Tracer

    return Tracer(service=SERVICE)


def traced(handler):
    """The Lambda handler, under Tracer when tracing is on (else unchanged, X-Ray SDK unread)."""
    if tracing_enabled():
        return tracer().capture_lambda_handler(handler)
    return handler
