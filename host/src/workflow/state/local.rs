//! Local activities whose retry backs off for longer than their local retry
//! threshold: core hands the wait back to the workflow (`DoBackoff`), which
//! sleeps on a durable timer and then schedules the next attempt as a new
//! local activity, as the Temporal SDKs do. The guest keeps one handle
//! throughout; core knows each attempt and each backoff timer by its own seq.

use crate::temporal::proto::activity_result::DoBackoff;
use crate::temporal::proto::workflow_commands::{ScheduleLocalActivity, StartTimer};
use std::collections::BTreeMap;

/// A local activity the guest started and that is not resolved yet.
#[derive(Debug)]
struct LocalActivity {
    /// The first attempt's command, re-issued for later attempts.
    command: ScheduleLocalActivity,
    /// The seq core knows it by now: the attempt's or the backoff timer's.
    current: u32,
    /// Waiting on the backoff timer.
    backing_off: bool,
}

/// How to cancel a local activity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Cancel {
    /// Request cancellation of the running attempt `seq` (core resolves
    /// the handle).
    Attempt(u32),
    /// Cancel backoff timer `seq` and resolve the handle as cancelled.
    Backoff(u32),
}

/// A run's unresolved local activities.
#[derive(Debug, Default)]
pub(super) struct Locals {
    /// By the guest's handle.
    by_handle: BTreeMap<u32, LocalActivity>,
    /// Seqs of later attempts and of backoff timers -> handle.
    seqs: BTreeMap<u32, u32>,
}

impl Locals {
    /// The first attempt of local activity `h` (its seq is `h`) was issued.
    pub(super) fn scheduled(&mut self, h: u32, command: ScheduleLocalActivity) {
        let local = LocalActivity {
            command,
            current: h,
            backing_off: false,
        };
        self.by_handle.insert(h, local);
    }

    /// Core says attempt `seq` failed and the next must wait `backoff`: the
    /// timer to start, with a seq from `next_seq`.
    pub(super) fn back_off(
        &mut self,
        seq: u32,
        backoff: DoBackoff,
        next_seq: impl FnOnce() -> u32,
    ) -> Result<StartTimer, String> {
        let h = self.seqs.remove(&seq).unwrap_or(seq);
        let Some(local) = self.by_handle.get_mut(&h) else {
            return Err(format!(
                "history backs off local activity {seq}, which this run has not started"
            ));
        };
        let timer = next_seq();
        local.current = timer;
        local.backing_off = true;
        local.command.attempt = backoff.attempt;
        local.command.original_schedule_time = backoff.original_schedule_time;
        self.seqs.insert(timer, h);
        Ok(StartTimer {
            seq: timer,
            start_to_fire_timeout: backoff.backoff_duration,
        })
    }

    /// Timer `timer` fired: if it is a backoff timer, the next attempt to
    /// schedule, with a seq from `next_seq`; `None` for the guest's timers.
    pub(super) fn fire(
        &mut self,
        timer: u32,
        next_seq: impl FnOnce() -> u32,
    ) -> Option<ScheduleLocalActivity> {
        let h = self.seqs.remove(&timer)?;
        let local = self.by_handle.get_mut(&h)?;
        let seq = next_seq();
        local.current = seq;
        local.backing_off = false;
        self.seqs.insert(seq, h);
        Some(ScheduleLocalActivity {
            seq,
            ..local.command.clone()
        })
    }

    /// Attempt `seq` resolved for good: the guest's handle.
    pub(super) fn resolved(&mut self, seq: u32) -> u32 {
        let h = self.seqs.remove(&seq).unwrap_or(seq);
        self.by_handle.remove(&h);
        h
    }

    /// The guest cancels local activity `h`: how, or `None` when it is
    /// not running.
    pub(super) fn cancel(&mut self, h: u32) -> Option<Cancel> {
        let local = self.by_handle.get(&h)?;
        let seq = local.current;
        if local.backing_off {
            self.by_handle.remove(&h);
            self.seqs.remove(&seq);
            return Some(Cancel::Backoff(seq));
        }
        Some(Cancel::Attempt(seq))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn backoff(attempt: u32, secs: i64) -> DoBackoff {
        DoBackoff {
            attempt,
            backoff_duration: Some(prost_wkt_types::Duration {
                seconds: secs,
                nanos: 0,
            }),
            original_schedule_time: None,
        }
    }

    fn first(h: u32) -> ScheduleLocalActivity {
        ScheduleLocalActivity {
            seq: h,
            activity_type: "A".into(),
            attempt: 1,
            ..Default::default()
        }
    }

    #[test]
    fn a_backoff_sleeps_on_a_timer_then_schedules_the_next_attempt_under_the_same_handle() {
        let mut l = Locals::default();
        l.scheduled(1, first(1));
        let timer = l.back_off(1, backoff(2, 30), || 5).expect("started");
        assert_eq!(timer.seq, 5);
        assert_eq!(timer.start_to_fire_timeout.map(|d| d.seconds), Some(30));
        assert_eq!(l.fire(4, || 99), None, "not a backoff timer");
        let next = l.fire(5, || 6).expect("the next attempt");
        assert_eq!(
            (next.seq, next.attempt, next.activity_type.as_str()),
            (6, 2, "A")
        );
        // It fails again: backing off from the second attempt's seq.
        let timer = l.back_off(6, backoff(3, 60), || 7).expect("started");
        assert_eq!(timer.seq, 7);
        let next = l.fire(7, || 8).expect("the third attempt");
        assert_eq!(next.attempt, 3);
        assert_eq!(l.resolved(8), 1, "resolves the guest's handle");
        assert_eq!(l.cancel(1), None, "done");
    }

    #[test]
    fn backing_off_an_unknown_activity_is_out_of_step_with_history() {
        let mut l = Locals::default();
        let mut took = false;
        let e = l
            .back_off(3, backoff(2, 1), || {
                took = true;
                9
            })
            .expect_err("unknown");
        assert!(e.contains("local activity 3"), "{e}");
        assert!(!took, "no seq is used up");
    }

    #[test]
    fn cancelling_requests_the_attempt_or_stops_the_backoff_timer() {
        let mut l = Locals::default();
        l.scheduled(1, first(1));
        assert_eq!(l.cancel(1), Some(Cancel::Attempt(1)));
        l.back_off(1, backoff(2, 1), || 4).expect("started");
        assert_eq!(l.cancel(1), Some(Cancel::Backoff(4)));
        assert_eq!(l.cancel(1), None, "resolved as cancelled");
        assert_eq!(l.fire(4, || 5), None, "the timer no longer schedules");
        assert_eq!(l.cancel(2), None, "never started");
    }
}
