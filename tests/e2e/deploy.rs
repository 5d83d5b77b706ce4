//! Uploading modules to running hosts (`weft deploy`, `weft modules`,
//! `weft undeploy`, the admin API): runs pinned to the version they started
//! on, the replay gate, refused uploads, the admin token, a shared store.

use crate::harness::{
    Client, Outcome, Weft, certificates, free_port, run, scratch, temporal_cli, wait_for, wasm,
    weft_command,
};
use serde_json::json;
use std::path::{Path, PathBuf};
use temporalio_common::protos::temporal::api::enums::v1::EventType;
use temporalio_common::protos::temporal::api::history::v1::history_event::Attributes;
use weft::admin::{AdminClient, ClientOptions};

const QUEUE: &str = "deploy-q";

/// A host with a store and an admin socket, serving QUEUE with whatever is
/// uploaded.
fn host_config(dir: &Path, extra: &str) -> String {
    format!(
        "[store]\ndir = {:?}\n\n[admin]\nlisten = \"unix:{}\"\n{extra}\n\n[[worker]]\ntask_queue = \"{QUEUE}\"\n",
        dir.join("store"),
        dir.join("admin.sock").display()
    )
}

/// Run a `weft` admin command against the host configured in `dir`;
/// (success, stdout, stderr).
pub(crate) fn weft(dir: &Path, config: &str, args: &[&str]) -> (bool, String, String) {
    let mut command = weft_command();
    command
        .args(args)
        .arg("--config")
        .arg(dir.join(format!("{config}.toml")));
    run(command)
}

/// `weft deploy FILE --name NAME [more]`, which must succeed; its digest.
pub(crate) fn deploy(
    dir: &Path,
    config: &str,
    file: &Path,
    name: &str,
    more: &[&str],
) -> (String, String) {
    let file = file.to_string_lossy().into_owned();
    let mut args = vec!["deploy", file.as_str(), "--name", name];
    args.extend_from_slice(more);
    let (ok, stdout, stderr) = weft(dir, config, &args);
    assert!(ok, "deploy failed:\n{stdout}\n{stderr}");
    let digest = stdout
        .split_whitespace()
        .find(|w| w.starts_with("sha256:"))
        .unwrap_or_else(|| panic!("no digest printed:\n{stdout}"))
        .to_owned();
    (digest, stdout)
}

/// The module digests recorded as pins in a run's history.
pub(crate) async fn pins(client: &Client, id: &str) -> Vec<String> {
    client
        .history(id)
        .await
        .into_iter()
        .filter_map(|e| match e.attributes {
            Some(Attributes::MarkerRecordedEventAttributes(m)) => Some(m),
            _ => None,
        })
        .flat_map(|m| m.details.into_values().flat_map(|p| p.payloads))
        .filter_map(|p| {
            let text = String::from_utf8_lossy(&p.data).into_owned();
            let at = text.find("weft.module/")?;
            Some(text[at + "weft.module/".len()..].chars().take(71).collect())
        })
        .collect()
}

/// Wait until a run's first workflow task has completed (it is pinned).
pub(crate) async fn started(client: &Client, id: &str) {
    client
        .wait_event(id, "its first workflow task to complete", |e| {
            e.event_type == EventType::WorkflowTaskCompleted as i32
        })
        .await;
}

fn signal_finish(ns: &str, id: &str, value: &str) {
    temporal_cli(
        ns,
        &[
            "workflow",
            "signal",
            "--workflow-id",
            id,
            "--name",
            "finish",
            "--input",
            value,
        ],
    );
}

/// Wait until visibility, which lags history, lists run `id` under `query`
/// (`listed`) or no longer does. The host finds open and recent runs there.
pub(crate) fn wait_listed(ns: &str, query: &str, id: &str, listed: bool) {
    let verb = if listed { "list" } else { "no longer list" };
    let what = format!("visibility's {query} to {verb} {id}");
    wait_for(&what, || {
        let table = temporal_cli(ns, &["workflow", "list", "--query", query]);
        (table.split_whitespace().any(|w| w == id) == listed).then_some(())
    });
}

#[tokio::test(flavor = "multi_thread")]
async fn runs_finish_on_the_version_they_started_on_even_after_a_restart() {
    let ns = "e2e-deploy-pin";
    let dir = scratch("deploy-pin");
    let config = host_config(&dir, "");
    let mut host = Weft::serve(&dir, "host", ns, &config);

    let (v1, out) = deploy(&dir, "host", &wasm("versioned_v1"), "versioned", &[]);
    assert!(out.contains("types:      Versioned"), "{out}");
    assert!(out.contains("current:    yes"), "{out}");
    assert!(out.contains(&format!("task queue: {QUEUE}")), "{out}");

    let client = Client::new(ns).await;
    client.start("old", "Versioned", QUEUE, &[]).await;
    started(&client, "old").await;
    assert_eq!(
        pins(&client, "old").await,
        vec![v1.clone()],
        "old run pinned to v1"
    );

    // v2 issues the same commands: the gate replays the open run and lets it in.
    wait_listed(ns, "WorkflowType='Versioned'", "old", true);
    let (v2, out) = deploy(&dir, "host", &wasm("versioned_v2"), "versioned", &[]);
    assert_ne!(v1, v2);
    assert!(out.contains("current:    yes"), "{out}");
    assert!(
        out.contains("old run") && out.contains("reproduced"),
        "{out}"
    );

    client.start("new", "Versioned", QUEUE, &[]).await;
    started(&client, "new").await;
    assert_eq!(
        pins(&client, "new").await,
        vec![v2.clone()],
        "new run pinned to v2"
    );

    // Open runs, by the version they are pinned to, as `weft modules` tells.
    let (ok, table, err) = weft(&dir, "host", &["modules"]);
    assert!(ok, "{err}");
    let row = |digest: &str| {
        table
            .lines()
            .find(|l| l.contains(&digest[..19]))
            .unwrap_or_else(|| panic!("no row for {digest}:\n{table}"))
            .to_owned()
    };
    assert!(row(&v1).split_whitespace().any(|w| w == "1"), "{table}");
    assert!(row(&v2).contains(" * "), "v2 is current:\n{table}");

    // A restart empties the cache: the old run replays, on v1 from the store.
    host.kill9();
    let _host = Weft::serve(&dir, "host-again", ns, &config);
    signal_finish(ns, "old", "\"o\"");
    signal_finish(ns, "new", "\"n\"");
    assert_eq!(
        client.outcome("old").await,
        Outcome::Completed(json!({"version": 1, "signal": "o"}))
    );
    assert_eq!(
        client.outcome("new").await,
        Outcome::Completed(json!({"version": 2, "signal": "n"}))
    );

    // Nothing is pinned to v1 any more: it can go; the current one cannot.
    let running = "WorkflowType='Versioned' AND ExecutionStatus='Running'";
    wait_listed(ns, running, "old", false);
    let (ok, out, err) = weft(&dir, "host", &["undeploy", "versioned", "--digest", &v2]);
    assert!(!ok && err.contains("is the current version"), "{out}{err}");
    // Another host holding the store lock (here: this test) makes the
    // undeploy wait: it neither counts pins nor writes until released.
    let store = weft::store::ModuleStore::open(dir.join("store")).expect("store");
    let held = store.lock().expect("lock");
    let undeploy = weft_command()
        .args(["undeploy", "versioned", "--digest", &v1, "--config"])
        .arg(dir.join("host.toml"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run weft undeploy");
    wait_for("the undeploy to wait for the store lock", || {
        _host
            .log_text()
            .contains("the module store is locked by another change")
            .then_some(())
    });
    let record = held.record("versioned").expect("record");
    assert!(
        record
            .version(&weft::store::Digest::try_from(v1.clone()).expect("digest"))
            .is_some(),
        "removed while the lock was held"
    );
    drop(held);
    let out = undeploy.wait_with_output().expect("undeploy");
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let (_, table, _) = weft(&dir, "host", &["modules"]);
    assert!(
        !table.contains(&v1[..19]) && table.contains(&v2[..19]),
        "{table}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_run_pinned_to_a_config_module_replays_on_it_after_the_file_changes() {
    let ns = "e2e-deploy-config";
    let dir = scratch("deploy-config");
    let module = dir.join("versioned.wasm");
    std::fs::copy(wasm("versioned_v1"), &module).expect("copy v1");
    let config = format!(
        "[store]\ndir = \"store\"\n\n[[worker]]\ntask_queue = \"{QUEUE}\"\nworkflows = [\"versioned.wasm\"]\n"
    );
    let mut host = Weft::serve(&dir, "host", ns, &config);
    let client = Client::new(ns).await;
    client.start("before", "Versioned", QUEUE, &[]).await;
    started(&client, "before").await;

    // The file is replaced by v2 and the host restarted: the open run still
    // replays on v1, which the store kept when the host first loaded it.
    host.kill9();
    std::fs::copy(wasm("versioned_v2"), &module).expect("copy v2");
    let _host = Weft::serve(&dir, "host-again", ns, &config);
    client.start("after", "Versioned", QUEUE, &[]).await;
    signal_finish(ns, "before", "1");
    signal_finish(ns, "after", "2");
    assert_eq!(
        client.outcome("before").await,
        Outcome::Completed(json!({"version": 1, "signal": 1}))
    );
    assert_eq!(
        client.outcome("after").await,
        Outcome::Completed(json!({"version": 2, "signal": 2}))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_replay_gate_refuses_a_version_that_does_not_replay_recent_runs() {
    let ns = "e2e-deploy-gate";
    let dir = scratch("deploy-gate");
    let _host = Weft::serve(&dir, "host", ns, &host_config(&dir, ""));
    let (v1, _) = deploy(&dir, "host", &wasm("versioned_v1"), "versioned", &[]);
    let client = Client::new(ns).await;
    client.start("done", "Versioned", QUEUE, &[]).await;
    started(&client, "done").await;
    signal_finish(ns, "done", "1");
    assert!(matches!(
        client.outcome("done").await,
        Outcome::Completed(_)
    ));
    wait_listed(ns, "WorkflowType='Versioned'", "done", true);

    // v3 schedules an activity where v1's history has a timer.
    let v3_file = wasm("versioned_v3");
    let file = v3_file.to_string_lossy();
    let (ok, out, err) = weft(&dir, "host", &["deploy", &file, "--name", "versioned"]);
    assert!(!ok, "v3 must be refused:\n{out}");
    assert!(err.contains("replay gate refused"), "{err}");
    assert!(
        err.contains("done run") && err.contains("DIVERGED"),
        "names the run: {err}"
    );
    assert!(err.contains("--force"), "says how to override: {err}");
    let (_, table, _) = weft(&dir, "host", &["modules"]);
    assert_eq!(
        table.lines().filter(|l| l.starts_with("versioned")).count(),
        1,
        "the refused version was not stored:\n{table}"
    );
    assert!(table.contains(&v1[..19]), "{table}");

    // --force stores it and makes it current, and says what that risks.
    let (v3, out) = deploy(&dir, "host", &v3_file, "versioned", &["--force"]);
    assert!(
        out.contains("current:    yes") && out.contains("--force"),
        "{out}"
    );
    let (_, table, _) = weft(&dir, "host", &["modules"]);
    assert!(table.contains(&v3[..19]), "{table}");
}

/// A component from WAT text (the wasmtime `wat` feature's parser).
fn component(dir: &Path, name: &str, wat: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, wat::parse_str(wat).expect("valid WAT")).expect("write");
    path
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_uploads_are_refused_with_the_reason_and_change_nothing() {
    let ns = "e2e-deploy-bad";
    let dir = scratch("deploy-bad");
    // TOKEN is a secret the operator lets uploads name, bound to its source
    // here; an upload can name it, never choose where it is read from.
    let _host = Weft::serve(
        &dir,
        "host",
        ns,
        &host_config(
            &dir,
            "max_upload_mib = 1\n[allow]\nsecrets = [\"TOKEN\"]\n\
             [secrets]\nTOKEN = { from_env = \"WEFT_TEST_DEPLOY_TOKEN\" }",
        ),
    );
    let good = std::fs::read(wasm("versioned_v1")).expect("v1");
    let text = dir.join("not-wasm.wasm");
    std::fs::write(&text, "hello").expect("write");
    let truncated = dir.join("truncated.wasm");
    std::fs::write(&truncated, &good[..good.len() / 2]).expect("write");
    let large = dir.join("large.wasm");
    let mut big = good.clone();
    big.resize(3 << 20, 0);
    std::fs::write(&large, big).expect("write");
    let core = component(&dir, "core.wasm", "(module)");
    let no_world = component(&dir, "no-world.wasm", "(component)");
    let wasi_workflow = component(
        &dir,
        "wasi-workflow.wasm",
        r#"(component
            (import "wasi:random/random@0.2.0" (instance))
            (import "wasi:clocks/wall-clock@0.2.0" (instance))
            (instance $guest)
            (export "weft:plugin/workflow-guest@0.1.0" (instance $guest)))"#,
    );
    let grants = dir.join("grants.toml");
    std::fs::write(&grants, "env = { SECRET_PLACE = \"x\" }\n").expect("write");
    // The hole this closes: a grant choosing which host file (or variable)
    // its secret is read from. Refused by rule, whether the file exists or
    // not (the same answer, so it tells nothing about the host).
    let source_grants = |name: &str, source: &str| {
        let path = dir.join(name);
        std::fs::write(
            &path,
            format!("secrets = [{{ name = \"TOKEN\", {source}, env = true }}]\n"),
        )
        .expect("write");
        path
    };
    let passwd = source_grants("passwd.toml", "from_file = \"/etc/passwd\"");
    let missing = source_grants("missing.toml", "from_file = \"/no/such/weft/file\"");
    let host_env = source_grants("host-env.toml", "from_env = \"HOME\"");
    let rule = "a grant names a secret, never its source: the operator binds `TOKEN` to a \
                variable or file in weft.toml's `[secrets]`";

    let activity = wasm("sandbox_activities");
    let from_file = format!("`secrets[0].from_file`: {rule}");
    let from_env = format!("`secrets[0].from_env`: {rule}");
    let cases: [(&Path, &[&str], &str); 10] = [
        (&text, &[], "not WebAssembly"),
        (&core, &[], "a core WebAssembly module, not a component"),
        (&truncated, &[], "malformed component"),
        (&large, &[], "over this host's limit of 1 MiB"),
        (
            &wasi_workflow,
            &[],
            // The imports, and why a workflow may not have them.
            "it imports wasi:random/random@0.2.0, wasi:clocks/wall-clock@0.2.0; workflows \
             may import only weft:plugin/workflow-host (no WASI: no clock, randomness, files \
             or network), so that every run is deterministic",
        ),
        (&no_world, &[], "not a weft component: it exports neither"),
        (
            &activity,
            &["--grants", grants.to_str().expect("utf-8 path")],
            "`env.SECRET_PLACE`",
        ),
        (
            &activity,
            &["--grants", passwd.to_str().expect("utf-8 path")],
            &from_file,
        ),
        (
            &activity,
            &["--grants", missing.to_str().expect("utf-8 path")],
            &from_file,
        ),
        (
            &activity,
            &["--grants", host_env.to_str().expect("utf-8 path")],
            &from_env,
        ),
    ];
    for (file, more, expected) in cases {
        let file_arg = file.to_string_lossy();
        let mut args = vec!["deploy", &*file_arg, "--name", "bad"];
        args.extend_from_slice(more);
        let (ok, out, err) = weft(&dir, "host", &args);
        assert!(!ok, "{} must be refused:\n{out}", file.display());
        assert!(
            err.contains(expected),
            "{}: expected `{expected}` in:\n{err}",
            file.display()
        );
    }
    // The store holds nothing: no name, no component file.
    let (ok, table, err) = weft(&dir, "host", &["modules"]);
    assert!(ok, "{err}");
    assert_eq!(table.lines().count(), 1, "only the header:\n{table}");
    let blobs = std::fs::read_dir(dir.join("store/blobs/sha256"))
        .expect("blob dir")
        .count();
    assert_eq!(blobs, 0, "no component file was written");

    // The host still takes a good upload, and the same one again.
    let (v1, _) = deploy(&dir, "host", &wasm("versioned_v1"), "versioned", &[]);
    deploy(&dir, "host", &wasm("versioned_v1"), "versioned", &[]);
    // A name keeps its kind: an activity under a workflow's name is refused
    // before anything is written.
    let activity_file = activity.to_string_lossy();
    let (ok, _, err) = weft(
        &dir,
        "host",
        &["deploy", &activity_file, "--name", "versioned"],
    );
    assert!(
        !ok && err.contains("module `versioned` is a workflow module"),
        "{err}"
    );
    let blobs = std::fs::read_dir(dir.join("store/blobs/sha256"))
        .expect("blob dir")
        .count();
    assert_eq!(blobs, 1, "only v1's component");
    let (_, table, _) = weft(&dir, "host", &["modules"]);
    let row = table.lines().find(|l| l.contains(&v1[..19]));
    assert!(
        row.is_some_and(|r| r.contains(" * ") && r.contains(" yes ")),
        "one version, current and loaded:\n{table}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_admin_api_wants_the_token_on_every_tcp_listener() {
    let ns = "e2e-deploy-token";
    let dir = scratch("deploy-token");
    let port = free_port();
    let open = format!(
        "[store]\ndir = \"store\"\n[admin]\nlisten = \"0.0.0.0:{port}\"\n\n[[worker]]\ntask_queue = \"{QUEUE}\"\n"
    );
    // Without a token a TCP listener is refused at start, loopback too:
    // any local user (or an activity granted a loopback socket) reaches it.
    let loopback = open.replace("0.0.0.0:", "127.0.0.1:");
    for (name, config, listen) in [
        ("open", &open, format!("0.0.0.0:{port}")),
        ("loopback", &loopback, format!("127.0.0.1:{port}")),
    ] {
        std::fs::write(dir.join(format!("{name}.toml")), config).expect("write");
        let (ok, _, err) = weft(&dir, name, &["check"]);
        assert!(!ok, "{name} must be refused");
        assert!(
            err.contains(&format!("`admin.listen`: {listen} is a TCP listener"))
                && err.contains("set `admin.token_file`"),
            "{err}"
        );
    }
    // Off loopback, a token without TLS is refused too...
    let plaintext = open.replace("[admin]\n", "[admin]\ntoken_file = \"token\"\n");
    std::fs::write(dir.join("plaintext.toml"), &plaintext).expect("write");
    let (ok, _, err) = weft(&dir, "plaintext", &["check"]);
    assert!(!ok, "a plaintext token off loopback must be refused");
    assert!(
        err.contains("is not a loopback address and has no TLS")
            && err.contains("insecure_plaintext_token = true"),
        "{err}"
    );

    std::fs::write(dir.join("token"), "s3cret-token\n").expect("write");
    // ...unless accepted explicitly, with a warning at start.
    let guarded = plaintext.replace("[admin]\n", "[admin]\ninsecure_plaintext_token = true\n");
    let host = Weft::serve(&dir, "guarded", ns, &guarded);
    wait_for("the plaintext warning", || {
        host.log_text()
            .contains("the admin token travels in clear")
            .then_some(())
    });
    let connect = |token: Option<&str>| {
        AdminClient::connect(ClientOptions {
            address: format!("127.0.0.1:{port}"),
            token: token.map(str::to_owned),
            ..Default::default()
        })
    };
    let mut anonymous = connect(None).await.expect("connect");
    let refused = anonymous.list().await.expect_err("no token, no answer");
    assert!(refused.to_string().contains("Bearer"), "{refused}");
    let mut wrong = connect(Some("s3cret")).await.expect("connect");
    assert!(wrong.list().await.is_err(), "a wrong token is refused");
    // Probes need no token.
    assert!(anonymous.health("").await.expect("liveness"));
    assert!(anonymous.health("readiness").await.expect("readiness"));

    let mut admin = connect(Some("s3cret-token")).await.expect("connect");
    assert!(admin.list().await.expect("list with the token").is_empty());
    // The CLI reads the token file the config names.
    deploy(&dir, "guarded", &wasm("versioned_v1"), "versioned", &[]);
    assert_eq!(admin.list().await.expect("list").len(), 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn hosts_sharing_a_store_serve_each_others_deploys() {
    let ns = "e2e-deploy-fleet";
    let dir = scratch("deploy-fleet");
    let orders = dir.join("orders");
    // A workflow host with the admin API, and an activity host that only
    // shares the store directory: it sees the deploy without a restart.
    let allow = format!("[allow]\ndirs = [{:?}]\nenv = [\"ORDER_CURRENCY\"]\n", dir);
    let store = "[store]\ndir = \"store\"\npoll_ms = 200\n";
    let workflows = format!(
        "{allow}{store}[admin]\nlisten = \"unix:{}\"\n\n[[worker]]\ntask_queue = \"fleet-wf\"\nkind = \"workflow-only\"\n",
        dir.join("admin.sock").display()
    );
    let activities = format!(
        "{allow}{store}\n[[worker]]\ntask_queue = \"fleet-act\"\nkind = \"activity-only\"\n"
    );
    let _workflow_host = Weft::serve(&dir, "workflows", ns, &workflows);
    let activity_host = Weft::serve(&dir, "activities", ns, &activities);

    let grants = dir.join("grants.toml");
    std::fs::write(
        &grants,
        "dirs = [{ host = \"orders\", guest = \"/orders\", writable = true, create = true }]\n\
         env = { ORDER_CURRENCY = \"EUR\" }\n",
    )
    .expect("write");
    let grants = grants.to_string_lossy().into_owned();
    let (_, out) = deploy(
        &dir,
        "workflows",
        &wasm("order_activities"),
        "order-activities",
        &["--task-queue", "fleet-act", "--grants", &grants],
    );
    assert!(out.contains("not served by this host"), "{out}");
    deploy(&dir, "workflows", &wasm("order_workflow"), "order", &[]);

    wait_for("the activity host to serve the upload", || {
        activity_host
            .log_text()
            .contains("CreateOrder")
            .then_some(())
    });
    let client = Client::new(ns).await;
    client
        .start(
            "fleet-order",
            "OrderWorkflow",
            "fleet-wf",
            &[json!("order-7"), json!("fleet-act")],
        )
        .await;
    let Outcome::Completed(result) = client.outcome("fleet-order").await else {
        panic!("the order did not complete");
    };
    assert_eq!(result["charge_payment"]["status"], "charged", "{result}");
    assert!(
        orders.join("order-7.json").exists(),
        "the activity host wrote the order"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_admin_api_can_require_client_certificates() {
    let ns = "e2e-deploy-mtls";
    let dir = scratch("deploy-mtls");
    let server_ext = "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n";
    let client_ext = "extendedKeyUsage=clientAuth\n";
    certificates(&dir, "ca", &[("host", server_ext), ("client", client_ext)]);
    certificates(&dir, "rogue-ca", &[("rogue", client_ext)]);
    let port = free_port();
    let config = format!(
        "[store]\ndir = \"store\"\n[admin]\nlisten = \"127.0.0.1:{port}\"\n\
         token_file = \"token\"\ntls_cert = \"host.pem\"\ntls_key = \"host.key\"\n\
         client_ca = \"ca.pem\"\n\n\
         [[worker]]\ntask_queue = \"{QUEUE}\"\n"
    );
    // Every TCP listener needs the token, mTLS or not.
    std::fs::write(dir.join("token"), "mtls-token\n").expect("write");
    let host = Weft::serve(&dir, "host", ns, &config);
    let connect = |identity: Option<&str>| {
        AdminClient::connect(ClientOptions {
            address: format!("https://127.0.0.1:{port}"),
            token: Some("mtls-token".into()),
            ca: Some(dir.join("ca.pem")),
            identity: identity
                .map(|n| (dir.join(format!("{n}.pem")), dir.join(format!("{n}.key")))),
        })
    };
    let mut client = connect(Some("client"))
        .await
        .expect("a signed client connects");
    assert!(client.list().await.expect("list").is_empty());
    let refused = |identity| async move {
        match connect(identity).await {
            Err(e) => e.to_string(),
            Ok(mut c) => c.list().await.expect_err("no answer").to_string(),
        }
    };
    // The client sees a failed handshake (how, depends on timing); the
    // host logs why it refused.
    for (identity, why) in [
        (None, "peer sent no certificates"),
        (Some("rogue"), "invalid peer certificate: UnknownIssuer"),
    ] {
        let e = refused(identity).await;
        assert!(e.contains("transport error"), "{identity:?}: {e}");
        wait_for(why, || host.log_text().contains(why).then_some(()));
    }
    // The CLI with the client certificate.
    let (ok, out, err) = weft(
        &dir,
        "host",
        &[
            "modules",
            "--tls-ca",
            dir.join("ca.pem").to_str().expect("utf-8"),
            "--tls-cert",
            dir.join("client.pem").to_str().expect("utf-8"),
            "--tls-key",
            dir.join("client.key").to_str().expect("utf-8"),
        ],
    );
    assert!(ok && out.starts_with("NAME"), "{out}{err}");
}
