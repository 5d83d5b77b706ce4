//! What one activation may spend: fuel, wall-clock time (epoch ticks), log
//! lines and commands; and the limit a guest broke, which traps it when
//! its call returns.

use super::{MAX_COMMANDS_PER_ACTIVATION, MAX_LOG_LINES_PER_ACTIVATION};
use crate::temporal::proto::workflow_commands::WorkflowCommand;
use crate::workflow::{FUEL_PER_ACTIVATION, epoch};
use std::time::Duration;

/// An activation's budget and the commands gathered in it.
#[derive(Debug)]
pub(super) struct Budget {
    /// The guest's next entry gets a full fuel budget.
    refuel: bool,
    /// The wall-clock deadline of each activation, in epoch ticks.
    deadline_ticks: u64,
    /// Fuel left when the guest last entered the host (its last call, or
    /// its return): what this activation spent, for metrics.
    fuel_left: u64,
    /// Lines the guest logged in this activation.
    log_lines: u32,
    /// Commands gathered since they were last taken.
    commands: Vec<WorkflowCommand>,
    /// A limit the guest broke: its next return from the host traps.
    violation: Option<String>,
}

/// What to do with a guest's log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum LogLine {
    /// Within the activation's lines.
    Write,
    /// The first line past them: say once that the rest are dropped.
    WarnDropped,
    /// A later line past them.
    Drop,
}

impl Default for Budget {
    fn default() -> Budget {
        Budget {
            refuel: true,
            deadline_ticks: epoch::deadline_ticks(None),
            fuel_left: FUEL_PER_ACTIVATION,
            log_lines: 0,
            commands: Vec::new(),
            violation: None,
        }
    }
}

impl Budget {
    /// A new activation: full fuel, no lines logged.
    pub(super) fn begin(&mut self) {
        self.refuel = true;
        self.log_lines = 0;
        self.fuel_left = FUEL_PER_ACTIVATION;
    }

    /// Each activation may take as long as one workflow task.
    pub(super) fn set_task_timeout(&mut self, task_timeout: Option<Duration>) {
        self.deadline_ticks = epoch::deadline_ticks(task_timeout);
    }

    /// Each activation may take `ticks` epoch ticks.
    pub(super) fn set_deadline_ticks(&mut self, ticks: u64) {
        self.deadline_ticks = ticks;
    }

    /// The wall-clock deadline of an activation, in epoch ticks.
    pub(super) fn deadline_ticks(&self) -> u64 {
        self.deadline_ticks
    }

    /// The guest entered the host with `left` fuel.
    pub(super) fn record_fuel_left(&mut self, left: u64) {
        self.fuel_left = left;
    }

    /// Fuel spent in this activation so far.
    pub(super) fn fuel_spent(&self) -> u64 {
        FUEL_PER_ACTIVATION.saturating_sub(self.fuel_left)
    }

    /// True once per activation.
    pub(super) fn take_refuel(&mut self) -> bool {
        std::mem::take(&mut self.refuel)
    }

    /// Count a log line (outside replay).
    pub(super) fn log_line(&mut self) -> LogLine {
        self.log_lines += 1;
        match self.log_lines {
            n if n <= MAX_LOG_LINES_PER_ACTIVATION => LogLine::Write,
            n if n == MAX_LOG_LINES_PER_ACTIVATION + 1 => LogLine::WarnDropped,
            _ => LogLine::Drop,
        }
    }

    /// Gather `command`, within the activation's command limit: past it
    /// the command is dropped and the guest traps when its call returns.
    pub(super) fn push(&mut self, command: WorkflowCommand) {
        if self.commands.len() >= MAX_COMMANDS_PER_ACTIVATION {
            self.violate(format!(
                "more than {MAX_COMMANDS_PER_ACTIVATION} commands in one activation \
                 (weft's command limit)"
            ));
            return;
        }
        self.commands.push(command);
    }

    /// The commands gathered since the last call.
    pub(super) fn take_commands(&mut self) -> Vec<WorkflowCommand> {
        std::mem::take(&mut self.commands)
    }

    /// The guest broke `limit` (the first one broken is reported).
    pub(super) fn violate(&mut self, limit: String) {
        self.violation
            .get_or_insert_with(|| format!("policy violation: {limit}"));
    }

    /// The limit the guest broke, if any (taken: reported once).
    pub(super) fn take_violation(&mut self) -> Option<String> {
        self.violation.take()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fuel_spent_is_counted_from_a_full_budget_each_activation() {
        let mut b = Budget::default();
        assert!(b.take_refuel());
        assert!(!b.take_refuel(), "once per activation");
        b.record_fuel_left(FUEL_PER_ACTIVATION - 5);
        assert_eq!(b.fuel_spent(), 5);
        b.record_fuel_left(FUEL_PER_ACTIVATION + 1);
        assert_eq!(b.fuel_spent(), 0, "never negative");
        b.begin();
        assert_eq!(b.fuel_spent(), 0);
        assert!(b.take_refuel());
    }

    #[test]
    fn log_lines_past_the_limit_warn_once_then_drop_until_the_next_activation() {
        let mut b = Budget::default();
        for _ in 0..MAX_LOG_LINES_PER_ACTIVATION {
            assert_eq!(b.log_line(), LogLine::Write);
        }
        assert_eq!(b.log_line(), LogLine::WarnDropped);
        assert_eq!(b.log_line(), LogLine::Drop);
        b.begin();
        assert_eq!(b.log_line(), LogLine::Write);
    }

    #[test]
    fn commands_past_the_limit_are_dropped_and_the_first_broken_limit_reported() {
        let mut b = Budget::default();
        for _ in 0..=MAX_COMMANDS_PER_ACTIVATION {
            b.push(WorkflowCommand::default());
        }
        b.violate("another limit".into());
        let v = b.take_violation().expect("broken");
        assert!(
            v.starts_with("policy violation: more than 10000 commands"),
            "{v}"
        );
        assert_eq!(b.take_violation(), None, "reported once");
        assert_eq!(b.take_commands().len(), MAX_COMMANDS_PER_ACTIVATION);
        assert!(b.take_commands().is_empty());
    }

    #[test]
    fn the_deadline_follows_the_task_timeout() {
        let mut b = Budget::default();
        b.set_deadline_ticks(7);
        assert_eq!(b.deadline_ticks(), 7);
        b.set_task_timeout(Some(Duration::from_secs(10)));
        assert_eq!(
            b.deadline_ticks(),
            epoch::deadline_ticks(Some(Duration::from_secs(10)))
        );
    }
}
