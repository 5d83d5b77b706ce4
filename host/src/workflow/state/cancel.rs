//! The run's own cancellation: requested by Temporal, and whether the
//! guest asked to hear of it (a blocking guest that never asked for its
//! cancellation handle is cancelled by the host).

/// Whether Temporal asked the run to stop, and whether the guest listens.
#[derive(Debug, Default)]
pub(super) struct Cancellation {
    requested: bool,
    /// The guest asked for its cancellation handle.
    handled: bool,
}

impl Cancellation {
    /// Temporal asked the run to stop.
    pub(super) fn request(&mut self) {
        self.requested = true;
    }

    /// The guest asks for its cancellation handle: true when it is
    /// requested already (the handle is resolved at once).
    pub(super) fn handle(&mut self) -> bool {
        self.handled = true;
        self.requested
    }

    /// True once Temporal asked the run to stop.
    pub(super) fn requested(&self) -> bool {
        self.requested
    }

    /// Requested, and nothing in the guest will clean up.
    pub(super) fn ignored(&self) -> bool {
        self.requested && !self.handled
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_is_ignored_until_the_guest_asks_for_its_handle() {
        let mut c = Cancellation::default();
        assert!(!c.ignored() && !c.requested());
        c.request();
        assert!(c.ignored());
        assert!(c.handle(), "the handle resolves at once");
        assert!(!c.ignored() && c.requested());
    }

    #[test]
    fn a_handle_asked_for_before_the_request_waits() {
        let mut c = Cancellation::default();
        assert!(!c.handle());
        c.request();
        assert!(!c.ignored(), "the guest listens");
    }
}
