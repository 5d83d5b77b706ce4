use super::*;

fn temp_store(test: &str) -> (PathBuf, ModuleStore) {
    let root = std::env::temp_dir().join(format!("weft-store-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let store = ModuleStore::open(&root).expect("open store");
    (root, store)
}

/// Add `digest` to `name` as a workflow version on queue `Q`.
fn add(store: &ModuleStore, name: &str, digest: &Digest) -> Result<NameRecord, StoreError> {
    let version = Version {
        digest: digest.clone(),
        types: vec!["W".into()],
        grants: String::new(),
    };
    store
        .lock()
        .expect("lock")
        .add_version(name, Kind::Workflow, "Q", version, false)
}

fn digests(r: &NameRecord) -> Vec<Digest> {
    r.versions.iter().map(|v| v.digest.clone()).collect()
}

#[test]
fn components_are_kept_by_digest_and_names_list_versions() {
    let (root, store) = temp_store("versions");
    let v1 = store.put(b"component one").expect("put");
    assert_eq!(
        store.put(b"component one").expect("put again"),
        v1,
        "same bytes, same digest"
    );
    assert_eq!(
        std::fs::read(store.path(&v1)).expect("blob"),
        b"component one"
    );
    let v2 = store.put(b"component two").expect("put");

    let r = add(&store, "order", &v1).expect("add v1");
    assert_eq!(
        r.current.as_ref(),
        Some(&v1),
        "the first version is current"
    );
    let r = add(&store, "order", &v2).expect("add v2");
    assert_eq!(digests(&r), vec![v1.clone(), v2.clone()]);
    assert_eq!(
        r.current.as_ref(),
        Some(&v1),
        "a new version is not current by itself"
    );

    store
        .lock()
        .expect("lock")
        .set_current("order", &v2)
        .expect("make v2 current");
    assert_eq!(
        store.record("order").expect("record").current,
        Some(v2.clone())
    );
    assert_eq!(store.names().expect("names"), vec!["order".to_owned()]);

    // Reopening finds the same state.
    let again = ModuleStore::open(&root).expect("reopen");
    assert_eq!(
        digests(&again.record("order").expect("record")),
        vec![v1, v2.clone()]
    );
    let e = store
        .lock()
        .expect("lock")
        .add_version(
            "order",
            Kind::Activity,
            "Q",
            Version {
                digest: v2.clone(),
                types: vec![],
                grants: String::new(),
            },
            false,
        )
        .expect_err("a name keeps its kind");
    assert!(matches!(e, StoreError::Mismatch { .. }), "{e}");
    let _ = std::fs::remove_dir_all(root);
}

#[test]
fn the_current_version_cannot_be_removed_and_unused_files_go() {
    let (root, store) = temp_store("remove");
    let v1 = store.put(b"one").expect("put");
    let v2 = store.put(b"two").expect("put");
    add(&store, "order", &v1).expect("add");
    add(&store, "order", &v2).expect("add");
    let e = store
        .lock()
        .expect("lock")
        .remove_version("order", &v1)
        .expect_err("current");
    assert!(
        e.to_string().contains("is the current version of `order`"),
        "{e}"
    );

    add(&store, "billing", &v2).expect("shared file");
    store
        .lock()
        .expect("lock")
        .set_current("order", &v1)
        .expect("current");
    store
        .lock()
        .expect("lock")
        .remove_version("order", &v2)
        .expect("remove v2 from order");
    assert!(store.path(&v2).exists(), "still a version of `billing`");
    add(&store, "order", &v2).expect("add back");
    store
        .lock()
        .expect("lock")
        .set_current("order", &v2)
        .expect("current");
    store
        .lock()
        .expect("lock")
        .remove_version("order", &v1)
        .expect("remove v1");
    assert!(!store.path(&v1).exists(), "no name lists it any more");
    store
        .lock()
        .expect("lock")
        .remove_name("billing")
        .expect("remove billing");
    assert!(store.path(&v2).exists(), "`order` still lists it");
    store
        .lock()
        .expect("lock")
        .remove_name("order")
        .expect("remove order");
    assert!(!store.path(&v2).exists(), "no name lists it any more");
    assert!(store.names().expect("names").is_empty());
    let _ = std::fs::remove_dir_all(root);
}

#[test]
fn bad_input_changes_nothing() {
    let (root, store) = temp_store("bad");
    let v1 = store.put(b"one").expect("put");
    for name in ["", "../etc", ".hidden", "a/b", &"x".repeat(65)] {
        let e = add(&store, name, &v1).expect_err("bad name");
        assert!(matches!(e, StoreError::BadName(_)), "{name}: {e}");
    }
    let unknown = Digest::of(b"never stored");
    let e = add(&store, "order", &unknown).expect_err("unknown digest");
    assert!(matches!(e, StoreError::NoSuchVersion { .. }), "{e}");
    assert!(
        store.names().expect("names").is_empty(),
        "no record was written"
    );
    assert!(Digest::try_from("sha256:abc".to_owned()).is_err());
    assert!(Digest::try_from(format!("sha256:{}", "A".repeat(64))).is_err());

    // A temporary file left by a crash mid-write (an hour ago or more) is
    // ignored, then cleaned.
    let orphan = root.join("blobs/sha256/.tmp-1-half.wasm");
    std::fs::write(&orphan, b"half").expect("orphan");
    std::fs::File::options()
        .write(true)
        .open(&orphan)
        .and_then(|f| f.set_modified(std::time::SystemTime::now() - STALE_TMP * 2))
        .expect("age it");
    assert!(store.names().expect("names").is_empty());
    ModuleStore::open(&root).expect("reopen");
    assert!(!orphan.exists());
    let _ = std::fs::remove_dir_all(root);
}

#[test]
fn a_blob_changed_on_disk_is_refused_on_every_read() {
    let (root, store) = temp_store("mismatch");
    let v1 = store.put(b"component one").expect("put");
    assert_eq!(store.read(&v1).expect("intact"), b"component one");
    std::fs::write(store.path(&v1), b"component two").expect("tamper");
    let e = store.read(&v1).expect_err("changed on disk").to_string();
    assert!(
        e.starts_with(&format!("module blob does not match {v1}")),
        "{e}"
    );
    let _ = std::fs::remove_dir_all(root);
}

#[test]
fn temporary_files_are_unique_and_only_stale_ones_are_dropped() {
    assert_ne!(tmp_name("x.toml"), tmp_name("x.toml"));
    let (root, _store) = temp_store("tmp");
    let names = root.join("names");
    let fresh = names.join(".tmp-otherhost-1-1-0-a.toml");
    let old = names.join(".tmp-otherhost-1-1-1-b.toml");
    std::fs::write(&fresh, "another host is writing this").expect("write");
    std::fs::write(&old, "left by a crash").expect("write");
    let long_ago = std::time::SystemTime::now() - STALE_TMP * 2;
    std::fs::File::options()
        .write(true)
        .open(&old)
        .and_then(|f| f.set_modified(long_ago))
        .expect("age it");
    // A second host opening the shared store.
    ModuleStore::open(&root).expect("open again");
    assert!(
        fresh.exists(),
        "another host's write in progress is left alone"
    );
    assert!(!old.exists(), "a stale one is dropped");
    let _ = std::fs::remove_dir_all(root);
}

#[test]
fn hosts_adding_versions_to_one_name_at_once_lose_no_update() {
    // Two stores on one directory stand for two hosts: flock locks belong
    // to the open file, so they exclude each other as processes do.
    const EACH: usize = 25;
    let (root, first) = temp_store("concurrent");
    let second = ModuleStore::open(&root).expect("second host");
    let hosts = [first, second];
    let added: Vec<Digest> = std::thread::scope(|s| {
        let threads: Vec<_> = hosts
            .iter()
            .enumerate()
            .map(|(h, store)| {
                s.spawn(move || {
                    (0..EACH)
                        .map(|i| {
                            let d = store.put(format!("host {h} v{i}").as_bytes()).expect("put");
                            add(store, "order", &d).expect("add");
                            d
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        threads
            .into_iter()
            .flat_map(|t| t.join().expect("thread"))
            .collect()
    });
    let record = hosts[0].record("order").expect("record");
    let mut have = digests(&record);
    have.sort();
    let mut want = added;
    want.sort();
    assert_eq!(have.len(), 2 * EACH, "every version is listed");
    assert_eq!(have, want);
    let _ = std::fs::remove_dir_all(root);
}

#[tokio::test]
async fn a_held_lock_keeps_other_hosts_out_until_released() {
    let (root, store) = temp_store("held");
    let other = ModuleStore::open(&root).expect("second host");
    let v1 = store.put(b"one").expect("put");
    let held = store.lock().expect("lock");
    assert!(
        other.try_lock().expect("try").is_none(),
        "a second host cannot take a held lock"
    );
    let e = other
        .lock_within(std::time::Duration::from_millis(50))
        .await
        .expect_err("held by the first host");
    assert!(matches!(e, StoreError::Busy { .. }), "{e}");
    assert!(e.to_string().contains("locked by another deploy"), "{e}");

    // A host waiting on the lock gets it once released, and sees the
    // record the holder wrote.
    let (tx, rx) = std::sync::mpsc::channel();
    let waiter = std::thread::spawn(move || {
        let locked = other.lock().expect("lock");
        tx.send(locked.record("order").map(|r| digests(&r)))
            .expect("send");
    });
    held.add_version(
        "order",
        Kind::Workflow,
        "Q",
        Version {
            digest: v1.clone(),
            types: vec!["W".into()],
            grants: String::new(),
        },
        false,
    )
    .expect("add under the lock");
    drop(held);
    let seen = rx
        .recv_timeout(std::time::Duration::from_secs(10))
        .expect("the waiter got the lock after the release");
    assert_eq!(seen.expect("record"), vec![v1]);
    waiter.join().expect("waiter");
    let _ = std::fs::remove_dir_all(root);
}
