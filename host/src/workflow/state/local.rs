//! Local activities whose retry backs off for longer than their local retry
//! threshold: core hands the wait back to the workflow (`DoBackoff`), which
//! sleeps on a durable timer and then schedules the next attempt as a new
//! local activity, as the Temporal SDKs do. The guest keeps one handle
//! throughout; core knows each attempt and each backoff timer by its own seq.

use super::*;
use crate::temporal::proto::activity_result::DoBackoff;

/// A local activity the guest started and that is not resolved yet.
#[derive(Debug)]
pub(super) struct LocalActivity {
    /// The first attempt's command, re-issued for later attempts.
    command: ScheduleLocalActivity,
    /// The seq core knows it by now: the attempt's or the backoff timer's.
    current: u32,
    /// Waiting on the backoff timer.
    backing_off: bool,
}

impl RunState {
    /// Issue the first attempt of local activity `h`.
    pub(super) fn schedule_local(&mut self, h: u32, command: ScheduleLocalActivity) {
        self.push(Variant::ScheduleLocalActivity(command.clone()));
        let local = LocalActivity {
            command,
            current: h,
            backing_off: false,
        };
        self.locals.insert(h, local);
    }

    /// Core says attempt `seq` failed and the next one must wait `backoff`
    /// on a timer.
    pub fn back_off_local(&mut self, seq: u32, backoff: DoBackoff) -> Result<(), String> {
        let h = self.local_seqs.remove(&seq).unwrap_or(seq);
        let Some(mut local) = self.locals.remove(&h) else {
            return Err(format!(
                "history backs off local activity {seq}, which this run has not started"
            ));
        };
        let timer = self.take_seq();
        local.current = timer;
        local.backing_off = true;
        local.command.attempt = backoff.attempt;
        local.command.original_schedule_time = backoff.original_schedule_time;
        self.locals.insert(h, local);
        self.local_seqs.insert(timer, h);
        self.push(Variant::StartTimer(StartTimer {
            seq: timer,
            start_to_fire_timeout: backoff.backoff_duration,
        }));
        Ok(())
    }

    /// Timer `timer` fired. If it is a local activity's backoff, schedule
    /// the next attempt and return true; false for the guest's own timers.
    pub fn fire_local_backoff(&mut self, timer: u32) -> bool {
        let Some(h) = self.local_seqs.remove(&timer) else {
            return false;
        };
        let Some(mut local) = self.locals.remove(&h) else {
            return false;
        };
        let seq = self.take_seq();
        local.current = seq;
        local.backing_off = false;
        let command = ScheduleLocalActivity {
            seq,
            ..local.command.clone()
        };
        self.locals.insert(h, local);
        self.local_seqs.insert(seq, h);
        self.push(Variant::ScheduleLocalActivity(command));
        true
    }

    /// Attempt `seq` resolved for good: resolve the guest's handle.
    pub fn resolve_local(&mut self, seq: u32, outcome: Outcome) -> Result<(), String> {
        let h = self.local_seqs.remove(&seq).unwrap_or(seq);
        self.locals.remove(&h);
        self.resolve(HandleKind::LocalActivity, h, outcome)
    }

    /// The guest cancels local activity `h`: cancel the running attempt
    /// (core resolves the handle), or the backoff timer (resolved here).
    pub(super) fn cancel_local(&mut self, h: u32) -> Result<(), String> {
        let Some(local) = self.locals.get(&h) else {
            return Ok(());
        };
        let seq = local.current;
        if local.backing_off {
            self.locals.remove(&h);
            self.local_seqs.remove(&seq);
            self.push(Variant::CancelTimer(CancelTimer { seq }));
            let cancelled = payload::cancelled("local activity");
            return self.resolve(HandleKind::LocalActivity, h, Err(cancelled));
        }
        self.push(Variant::RequestCancelLocalActivity(
            RequestCancelLocalActivity { seq },
        ));
        Ok(())
    }
}
