# Sourced by the bench scripts: free ports and an in-memory dev server.

# A free TCP port on 127.0.0.1.
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Waits (up to 30 s) until something listens on port $1, or exits.
wait_port() {
  for _ in $(seq 150); do (echo >"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return; sleep 0.2; done
  echo "port $1 never opened" >&2
  exit 1
}

# Starts `temporal server start-dev` on port $1 (its log in $2) and waits
# until it listens; its pid is in $server. In memory, unless $3 names a
# SQLite file to keep its state in (WAL, no fsync: a bench's server need
# not survive a crash).
start_dev_server() {
  temporal server start-dev --headless --port "$1" --http-port "$(port)" --metrics-port "$(port)" \
    ${3:+--db-filename "$3" --sqlite-pragma journal_mode=wal --sqlite-pragma synchronous=off} \
    --log-level error >"$2" 2>&1 &
  server=$!
  wait_port "$1"
}

# Writes weft.toml to $work/weft.toml: a host on the dev server at port $1,
# metrics on port $2, serving the workflow component $4 on queue $3 (at most
# $7 cached runs) and the order activities $6 on queue $5, whose only grant
# is $work/orders. Module paths may be absolute or relative to the repo.
weft_toml() {
  cat >"$work/weft.toml" <<TOML
[temporal]
address = "127.0.0.1:$1"
[metrics]
listen = "127.0.0.1:$2"
[allow]
dirs = ["$work"]
[[worker]]
task_queue = "$3"
workflows = ["$(realpath "$4")"]
max_cached_workflows = $7
max_concurrent_workflow_tasks = 100
[[worker]]
task_queue = "$5"
max_concurrent_activities = 100
[[worker.activities]]
module = "$(realpath "$6")"
dirs = [{ host = "$work/orders", guest = "/orders", writable = true }]
TOML
}

# Waits (up to 2 min) until the weft host with metrics on port $1 is ready;
# fails at once if its process, pid $2, exits first (its log says why).
wait_ready() {
  for _ in $(seq 600); do
    curl -sf "http://127.0.0.1:$1/readyz" >/dev/null && return
    kill -0 "$2" 2>/dev/null || { echo "weft (pid $2) exited before it was ready" >&2; exit 1; }
    sleep 0.2
  done
  echo "weft on metrics port $1 never became ready" >&2
  exit 1
}
