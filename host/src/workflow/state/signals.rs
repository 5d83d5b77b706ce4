//! Signals of one blocking run: a signal meets the oldest handle waiting
//! for its name, or waits itself, in arrival order, for the next
//! `next-signal` of that name. (Activation-based guests get signals as
//! jobs and buffer them themselves.)

use crate::bindings::types::Payload;
use std::collections::{BTreeMap, VecDeque};

/// Signals no one waited for yet, and handles waiting for one.
#[derive(Debug, Default)]
pub(super) struct Signals {
    /// Per name, in arrival order.
    buffered: BTreeMap<String, VecDeque<Payload>>,
    /// Per name, in the order the guest asked.
    waiters: BTreeMap<String, VecDeque<u32>>,
}

impl Signals {
    /// History delivered a signal: the oldest waiter of its name to hand it
    /// to, or `None` when it was buffered.
    pub(super) fn deliver(&mut self, name: &str, value: Payload) -> Option<(u32, Payload)> {
        match self.waiters.get_mut(name).and_then(VecDeque::pop_front) {
            Some(h) => Some((h, value)),
            None => {
                self.buffer(name, value);
                None
            }
        }
    }

    /// Keep `value` for the next waiter of `name`.
    pub(super) fn buffer(&mut self, name: &str, value: Payload) {
        self.buffered
            .entry(name.to_owned())
            .or_default()
            .push_back(value);
    }

    /// The oldest buffered signal of `name`, taken.
    pub(super) fn next_buffered(&mut self, name: &str) -> Option<Payload> {
        self.buffered.get_mut(name).and_then(VecDeque::pop_front)
    }

    /// Handle `h` waits for the next signal of `name`.
    pub(super) fn wait(&mut self, name: String, h: u32) {
        self.waiters.entry(name).or_default().push_back(h);
    }

    /// `h` stops waiting (cancelled).
    pub(super) fn forget(&mut self, h: u32) {
        for waiters in self.waiters.values_mut() {
            waiters.retain(|&w| w != h);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workflow::state::raw_payload as p;

    #[test]
    fn signals_before_a_waiter_are_buffered_in_arrival_order_per_name() {
        let mut s = Signals::default();
        assert_eq!(s.deliver("a", p("1")), None);
        assert_eq!(s.deliver("b", p("x")), None);
        assert_eq!(s.deliver("a", p("2")), None);
        assert_eq!(s.next_buffered("a"), Some(p("1")));
        assert_eq!(s.next_buffered("a"), Some(p("2")));
        assert_eq!(s.next_buffered("b"), Some(p("x")));
        assert_eq!(s.next_buffered("a"), None, "none left");
        s.wait("a".into(), 4);
        assert_eq!(s.deliver("a", p("3")), Some((4, p("3"))));
    }

    #[test]
    fn waiters_are_served_oldest_first_and_a_cancelled_one_is_skipped() {
        let mut s = Signals::default();
        for h in [1, 2, 3] {
            s.wait("a".into(), h);
        }
        s.forget(1);
        assert_eq!(s.deliver("a", p("x")), Some((2, p("x"))));
        assert_eq!(s.deliver("a", p("y")), Some((3, p("y"))));
        assert_eq!(s.deliver("a", p("z")), None, "no waiter left: buffered");
        assert_eq!(s.next_buffered("a"), Some(p("z")));
    }
}
