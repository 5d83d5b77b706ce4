//! Temporal's own Wasm workflow components (world
//! `temporal:workflow-runtime@0.1.0`): the OrderWorkflow written with
//! Temporal's Rust SDK (`guest-examples/temporal-rust`) runs the contract of
//! guest-examples/ORDER.md with weft's Rust activity components.

/// The same assertions as every other language's OrderWorkflow: happy
/// path with the `status` query, a declined payment, a `cancel-order`
/// signal with start and while waiting, invalid input.
#[tokio::test(flavor = "multi_thread")]
async fn temporal_sdk_order_example() {
    crate::polyglot::language("temporal").await;
}
