"""Built-in handlers for demos, tests and benchmarks (types registered in SQL with their
validators: demo.noop, demo.steps, demo.fail).

With WORKER_TRACE_FILE set they record what they do (worker/trace.py): demo.noop a `run`
line when it starts; demo.steps a `step <k>` line once step k's checkpoint is stored, so a
test can prove that no step ran twice across crashes and resumes.
"""

from __future__ import annotations

from typing import Any

from worker import trace
from worker.context import JobContext
from worker.errors import PermanentError, RetryableError
from worker.registry import handler


@handler("demo.noop")
def noop(ctx: JobContext) -> None:
    if trace.enabled():
        trace.record(ctx.job_id, ctx.attempt, "run")


@handler("demo.steps")
def steps(ctx: JobContext) -> dict[str, Any]:
    total = int(ctx.input["steps"])
    step_seconds = int(ctx.input.get("step_ms", 0)) / 1000
    resumed_from = int(ctx.checkpoint.get("done", 0))
    for step in range(resumed_from + 1, total + 1):
        ctx.check_cancel()
        ctx.sleep(step_seconds)  # the step's "work"; wakes at once on cancel
        ctx.save_checkpoint("done", step, progress=100 * step // total)
        trace.record(ctx.job_id, ctx.attempt, f"step {step}")
    return {"steps": total, "resumed_from": resumed_from, "attempt": ctx.attempt}


@handler("demo.fail")
def fail(ctx: JobContext) -> dict[str, Any]:
    trace.record(ctx.job_id, ctx.attempt, "run")
    if ctx.input.get("permanent"):
        raise PermanentError("demo.fail failed, as it was asked to.")
    if ctx.attempt <= int(ctx.input.get("fail_times", 100)):
        raise RetryableError(f"demo.fail attempt {ctx.attempt} fails, as it was asked to")
    return {"succeeded_on_attempt": ctx.attempt}
