"""PruneFunction: daily, archive quiz attempts older than the retention period, then delete them;
and drop the login throttle's counts that have left their window.

The schedule's Input sets `retention_days` and `dry_run`; anything else in the event (an
EventBridge scheduled event carries its own fields) is ignored. A run cut short by the
Lambda's remaining time reports `complete: false`; the next run continues.
"""

from aws_lambda_powertools.metrics import MetricUnit
from pydantic import BaseModel, ConfigDict, Field

from companion.oauth.grants import prune_expired_sign_ins
from companion.observability import logger, metrics, traced
from companion.retention import prune_attempts
from companion.throttle import delete_expired


class PruneEvent(BaseModel):
    model_config = ConfigDict(extra="ignore")

    retention_days: int = Field(default=90, ge=1, le=3650)
    dry_run: bool = False


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event, context):
    request = PruneEvent.model_validate(event or {})
    summary = prune_attempts(
        retention_days=request.retention_days,
        dry_run=request.dry_run,
        remaining_ms=context.get_remaining_time_in_millis,
    ).as_dict()
    if not request.dry_run:
        summary["sign_ins_removed"] = prune_expired_sign_ins(request.retention_days)
        summary["expired_login_tries"] = delete_expired()
    metrics.add_metric(name="ArchivedAttempts", unit=MetricUnit.Count, value=summary["archived"])
    metrics.add_metric(name="DeletedAttempts", unit=MetricUnit.Count, value=summary["deleted"])
    logger.info("Pruned quiz attempts", extra=summary)
    return summary


handler = traced(handler)
