//! The wall-clock deadline of a workflow activation.
//!
//! Fuel bounds the guest's own instructions, not the time it spends inside
//! host imports (a loop over a cheap import, or over one that copies
//! megabytes), so every activation also has a deadline in epoch ticks. The
//! workflow engine's epoch advances only while some workflow guest code
//! runs: an idle host has no ticker waking it. An epoch trap, like running
//! out of fuel, fails the workflow task and is never recorded in history.

use std::time::Duration;

/// How often the workflow engine's epoch advances while guests run: the
/// precision of the activation deadline.
pub const TICK: Duration = Duration::from_millis(50);

/// The workflow task timeout assumed when a run names none: Temporal's
/// default.
pub const DEFAULT_TASK_TIMEOUT: Duration = Duration::from_secs(10);

/// The longest deadline an activation gets, whatever its task timeout says.
pub const MAX_DEADLINE: Duration = Duration::from_secs(120);

/// The deadline, in ticks, of an activation of a run whose workflow task
/// timeout is `task_timeout`: half of it, so that the host gives the guest
/// up and reports why (the task's failure) well before the server gives the
/// task up (a bare timeout, whose cause history does not show), even on a
/// loaded host, and its thread is free again.
pub fn deadline_ticks(task_timeout: Option<Duration>) -> u64 {
    let task = task_timeout
        .filter(|t| !t.is_zero())
        .unwrap_or(DEFAULT_TASK_TIMEOUT);
    let deadline = (task / 2).clamp(TICK, MAX_DEADLINE);
    deadline.as_millis().div_ceil(TICK.as_millis()) as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_deadline_is_the_task_timeout_within_bounds() {
        assert_eq!(deadline_ticks(None), 100);
        assert_eq!(deadline_ticks(Some(Duration::ZERO)), 100);
        assert_eq!(deadline_ticks(Some(Duration::from_secs(60))), 600);
        assert_eq!(deadline_ticks(Some(Duration::from_secs(3600))), 2400);
        assert_eq!(deadline_ticks(Some(Duration::from_millis(1))), 1);
    }
}
