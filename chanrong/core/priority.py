"""Task priorities, where the backend has them.

The database backend runs the waiting task with the highest priority first
(then the oldest). Periodic jobs go first, fan-out (webhook deliveries) in the
middle, background refreshes (re-matching) last, so that a busy hour's
thousands of deliveries and re-matches never hold up SLA escalation, the
audit seal or dead-worker recovery. RQ has no priorities; there tasks run in
order.
"""

from __future__ import annotations


def prioritised(task, priority: int):
    """`task` with `priority` where the backend orders by priority; unchanged
    where it cannot (setting one there would be refused)."""
    if getattr(task.get_backend(), "supports_priority", False):
        return task.using(priority=priority)
    return task
