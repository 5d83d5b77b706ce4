//! Queries. A blocking guest publishes its answers ahead (`set-query-result`),
//! bounded in names and bytes; an activation-based guest answers from a
//! handler, which must be read-only: one that starts anything fails its
//! query instead of changing the run.

use super::{MAX_QUERY_BYTES, MAX_QUERY_NAMES};
use crate::bindings::types::Payload;
use std::collections::BTreeMap;

/// A blocking run's published query answers.
#[derive(Debug, Default)]
pub(super) struct Answers {
    answers: BTreeMap<String, Payload>,
    /// Their size: names, data and metadata.
    bytes: usize,
}

fn size(name: &str, value: &Payload) -> usize {
    name.len()
        + value.data.len()
        + value
            .metadata
            .iter()
            .map(|(k, v)| k.len() + v.len())
            .sum::<usize>()
}

impl Answers {
    /// Publish (or replace) the answer to `name`, within the limits.
    pub(super) fn publish(&mut self, name: String, value: Payload) -> Result<(), String> {
        let old = self.answers.get(&name).map_or(0, |v| size(&name, v));
        if old == 0 && self.answers.len() >= MAX_QUERY_NAMES {
            return Err(format!(
                "policy violation: more than {MAX_QUERY_NAMES} query names in one run \
                 (weft's query name limit)"
            ));
        }
        let total = self.bytes - old + size(&name, &value);
        if total > MAX_QUERY_BYTES {
            return Err(format!(
                "policy violation: published query answers would hold {total} bytes, more \
                 than {MAX_QUERY_BYTES} (weft's query size limit)"
            ));
        }
        self.bytes = total;
        self.answers.insert(name, value);
        Ok(())
    }

    /// The published answer to `name`, or the names that have one.
    pub(super) fn answer(&self, name: &str) -> Result<Payload, Vec<String>> {
        self.answers
            .get(name)
            .cloned()
            .ok_or_else(|| self.answers.keys().cloned().collect())
    }
}

/// An activation-based run's query handler, while one runs.
#[derive(Debug, Default)]
pub(super) struct Handler {
    /// Inside a query handler: nothing may be started.
    running: bool,
    /// What the handler tried to do.
    violation: Option<String>,
}

impl Handler {
    /// Enter (or leave) a query handler.
    pub(super) fn set_running(&mut self, running: bool) {
        self.running = running;
    }

    /// True (and noted, first attempt only) when a running handler tries
    /// to `what`.
    pub(super) fn refuse(&mut self, what: &str) -> bool {
        if self.running {
            self.violation
                .get_or_insert_with(|| format!("a query handler tried to {what}"));
        }
        self.running
    }

    /// What the last handler tried to do that a query may not.
    pub(super) fn take_violation(&mut self) -> Option<String> {
        self.violation.take()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(n: usize) -> Payload {
        Payload {
            metadata: vec![("encoding".into(), b"json/plain".to_vec())],
            data: vec![b'x'; n],
        }
    }

    #[test]
    fn an_unknown_query_names_the_published_ones() {
        let mut a = Answers::default();
        assert_eq!(a.answer("q"), Err(vec![]));
        a.publish("b".into(), bytes(1)).expect("within");
        a.publish("a".into(), bytes(2)).expect("within");
        assert_eq!(a.answer("a"), Ok(bytes(2)));
        assert_eq!(a.answer("q"), Err(vec!["a".into(), "b".into()]));
    }

    #[test]
    fn names_are_bounded_and_replacing_is_no_new_name() {
        let mut a = Answers::default();
        for i in 0..MAX_QUERY_NAMES {
            a.publish(format!("q{i}"), bytes(1)).expect("within");
        }
        let e = a.publish("one-more".into(), bytes(1)).expect_err("over");
        assert!(e.contains("query name limit"), "{e}");
        a.publish("q0".into(), bytes(5)).expect("a replacement");
    }

    #[test]
    fn bytes_count_names_data_and_metadata_and_a_replacement_frees_the_old() {
        let mut a = Answers::default();
        let meta = "encoding".len() + "json/plain".len();
        a.publish("q".into(), bytes(10)).expect("within");
        assert_eq!(a.bytes, 1 + 10 + meta);
        for _ in 0..10 {
            a.publish("q".into(), bytes(MAX_QUERY_BYTES / 2))
                .expect("replacing stays within the limit");
        }
        let e = a
            .publish("r".into(), bytes(MAX_QUERY_BYTES / 2))
            .expect_err("over");
        assert!(e.contains("query size limit"), "{e}");
        assert_eq!(a.answer("r"), Err(vec!["q".into()]), "refused: not kept");
    }

    #[test]
    fn a_running_handler_is_refused_and_the_first_attempt_noted() {
        let mut h = Handler::default();
        assert!(!h.refuse("start something"), "no handler runs");
        h.set_running(true);
        assert!(h.refuse("start something"));
        assert!(h.refuse("issue a command"));
        h.set_running(false);
        assert_eq!(
            h.take_violation().as_deref(),
            Some("a query handler tried to start something")
        );
        assert_eq!(h.take_violation(), None, "reported once");
    }
}
