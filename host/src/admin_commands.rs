//! `weft deploy`, `weft modules` and `weft undeploy`: clients of a running
//! host's admin API.

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;
use weft::admin::proto::DeployHeader;
use weft::admin::{AdminClient, ClientOptions};
use weft::config::{Config, Listen, Overrides};

/// How to reach the host.
#[derive(Args)]
pub(crate) struct AdminArgs {
    /// The host's admin API: `unix:PATH`, `HOST:PORT` or `https://HOST:PORT`
    /// (default: the [admin] section of --config).
    #[arg(long, env = "WEFT_ADMIN")]
    admin: Option<String>,
    /// The host's config, to find its admin API and token.
    #[arg(long, short, default_value = "weft.toml")]
    config: PathBuf,
    /// A file holding the admin bearer token.
    #[arg(long, env = "WEFT_ADMIN_TOKEN_FILE")]
    token_file: Option<PathBuf>,
    /// PEM CA that signed the host's certificate (https).
    #[arg(long)]
    tls_ca: Option<PathBuf>,
    /// PEM client certificate, for a host that requires one (mTLS).
    #[arg(long, requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The client certificate's PEM key.
    #[arg(long, requires = "tls_cert")]
    tls_key: Option<PathBuf>,
}

/// `weft deploy`.
#[derive(Args)]
pub(crate) struct DeployArgs {
    /// The component file.
    file: PathBuf,
    /// The module name its versions are kept under, e.g. `order`.
    #[arg(long)]
    name: String,
    /// The task queue whose workers serve it (default: the name's, or the
    /// host's one worker of the module's kind).
    #[arg(long)]
    task_queue: Option<String>,
    /// An activity's grants: a TOML file with the keys of a config's
    /// [[worker.activities]] entry, without `module`.
    #[arg(long)]
    grants: Option<PathBuf>,
    /// Store the version without making it current.
    #[arg(long)]
    keep_current: bool,
    /// Make it current even if the replay gate finds recent runs that do
    /// not replay on it. Runs pinned to older versions stay on them; a run
    /// whose version is later removed, or that started before pinning,
    /// would replay on this one and fail its workflow tasks.
    #[arg(long)]
    force: bool,
    #[command(flatten)]
    admin: AdminArgs,
}

/// `weft modules`.
#[derive(Args)]
pub(crate) struct ModulesArgs {
    #[command(subcommand)]
    action: Option<ModulesAction>,
    #[command(flatten)]
    admin: AdminArgs,
}

#[derive(Subcommand)]
enum ModulesAction {
    /// Print what a version is: world, types, imports, grants.
    Inspect {
        /// The module name.
        name: String,
        /// The version (default: the current one).
        #[arg(long)]
        digest: Option<String>,
    },
    /// Make an uploaded version the one new runs use (replay gate first).
    SetCurrent {
        /// The module name.
        name: String,
        /// The version.
        digest: String,
        /// Skip the replay gate's refusal (see `weft deploy --force`).
        #[arg(long)]
        force: bool,
    },
}

/// `weft undeploy`.
#[derive(Args)]
pub(crate) struct UndeployArgs {
    /// The module name.
    name: String,
    /// Remove only this version (not the current one); default: the name
    /// and all its versions.
    #[arg(long)]
    digest: Option<String>,
    /// Remove even if open runs are pinned to it: they fail their next
    /// workflow task until the version is uploaded again.
    #[arg(long)]
    force: bool,
    #[command(flatten)]
    admin: AdminArgs,
}

impl AdminArgs {
    async fn connect(&self) -> anyhow::Result<AdminClient> {
        let mut options = ClientOptions {
            ca: self.tls_ca.clone(),
            identity: self.tls_cert.clone().zip(self.tls_key.clone()),
            ..Default::default()
        };
        let mut token_file = self.token_file.clone();
        options.address = match &self.admin {
            Some(address) => address.clone(),
            None => {
                let config = Config::load(&self.config, &Overrides::default()).with_context(
                    || "no --admin address given, so the host config names the admin API",
                )?;
                let Some(admin) = config.admin else {
                    bail!(
                        "{} has no [admin] section: the host serves no admin API",
                        self.config.display()
                    );
                };
                token_file = token_file.or(admin.token_file);
                let scheme = if admin.tls.is_some() { "https" } else { "http" };
                match admin.listen {
                    Listen::Unix(path) => format!("unix:{}", path.display()),
                    // A host listening on every address answers on loopback.
                    Listen::Tcp(mut addr) => {
                        if addr.ip().is_unspecified() {
                            addr.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
                        }
                        format!("{scheme}://{addr}")
                    }
                }
            }
        };
        if let Some(path) = token_file {
            options.token = Some(
                weft::admin::read_token(&path)
                    .with_context(|| format!("token file {}", path.display()))?,
            );
        }
        Ok(AdminClient::connect(options).await?)
    }
}

/// Upload a module and print what the host made of it.
pub(crate) async fn deploy(args: &DeployArgs) -> anyhow::Result<()> {
    let grants = match &args.grants {
        Some(path) => std::fs::read_to_string(path)
            .with_context(|| format!("grants file {}", path.display()))?,
        None => String::new(),
    };
    let mut client = args.admin.connect().await?;
    let header = DeployHeader {
        name: args.name.clone(),
        task_queue: args.task_queue.clone().unwrap_or_default(),
        grants,
        keep_current: args.keep_current,
        force: args.force,
        ..Default::default()
    };
    let r = client
        .deploy(&args.file, header)
        .await
        .with_context(|| format!("deploy {} as `{}`", args.file.display(), args.name))?;
    let mut out = format!(
        "deployed `{}` {}\n  kind:       {}\n  task queue: {}{}\n  types:      {}\n  current:    {}\n",
        args.name,
        r.digest,
        r.kind,
        r.task_queue,
        if r.served_here {
            ""
        } else {
            " (not served by this host)"
        },
        r.types.join(", "),
        if r.current { "yes" } else { "no" },
    );
    gate_and_notes(&mut out, &r.gate, &r.notes);
    std::io::stdout().write_all(out.as_bytes())?;
    Ok(())
}

/// The replay gate's lines and the host's notes, one per line.
fn gate_and_notes(out: &mut String, gate: &[String], notes: &[String]) {
    for line in gate {
        let _ = writeln!(out, "  gate:       {line}");
    }
    for note in notes {
        let _ = writeln!(out, "  note:       {note}");
    }
}

/// List modules, or inspect one, or make a version current.
pub(crate) async fn modules(args: &ModulesArgs) -> anyhow::Result<()> {
    let mut client = args.admin.connect().await?;
    let mut out = String::new();
    match &args.action {
        None => {
            let names = client.list().await?;
            let width = |column: &str, cell: fn(&weft::admin::proto::ModuleName) -> &str| {
                names
                    .iter()
                    .map(|n| cell(n).len())
                    .fold(column.len(), usize::max)
            };
            let name_w = width("NAME", |n| &n.name);
            let queue_w = width("TASK QUEUE", |n| &n.task_queue);
            let _ = writeln!(
                out,
                "{:<name_w$} {:<9} {:<queue_w$} {:<19} {:<7} {:<6} {:>9}  TYPES",
                "NAME", "KIND", "TASK QUEUE", "DIGEST", "CURRENT", "LOADED", "OPEN RUNS"
            );
            for n in &names {
                for v in &n.versions {
                    let short = v.digest.get(..19).unwrap_or(&v.digest);
                    let open = if v.open_runs < 0 {
                        "-".to_owned()
                    } else {
                        v.open_runs.to_string()
                    };
                    let _ = writeln!(
                        out,
                        "{:<name_w$} {:<9} {:<queue_w$} {:<19} {:<7} {:<6} {:>9}  {}",
                        n.name,
                        n.kind,
                        n.task_queue,
                        short,
                        if v.current { "*" } else { "" },
                        if v.loaded { "yes" } else { "no" },
                        open,
                        v.types.join(", ")
                    );
                }
            }
        }
        Some(ModulesAction::Inspect { name, digest }) => {
            let r = client.inspect(name, digest.as_deref()).await?;
            let _ = writeln!(out, "{name} {}", r.digest);
            out.push_str(&r.report);
            if !r.grants.trim().is_empty() {
                let _ = writeln!(out, "uploaded grants:\n{}", r.grants.trim_end());
            }
        }
        Some(ModulesAction::SetCurrent {
            name,
            digest,
            force,
        }) => {
            let r = client.set_current(name, digest, *force).await?;
            let _ = writeln!(out, "`{name}` now runs new workflows on {digest}");
            gate_and_notes(&mut out, &r.gate, &r.notes);
        }
    }
    std::io::stdout().write_all(out.as_bytes())?;
    Ok(())
}

/// Remove a version or a whole name.
pub(crate) async fn undeploy(args: &UndeployArgs) -> anyhow::Result<()> {
    let mut client = args.admin.connect().await?;
    let removed = client
        .undeploy(&args.name, args.digest.as_deref(), args.force)
        .await?;
    let mut out = String::new();
    for digest in removed {
        let _ = writeln!(out, "removed `{}` {digest}", args.name);
    }
    std::io::stdout().write_all(out.as_bytes())?;
    Ok(())
}
