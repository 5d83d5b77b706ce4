# Sourced by the bench scripts: free ports and an in-memory dev server.

# A free TCP port on 127.0.0.1.
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Waits (up to 30 s) until something listens on port $1, or exits.
wait_port() {
  for _ in $(seq 150); do (echo >"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return; sleep 0.2; done
  echo "port $1 never opened" >&2
  exit 1
}

# Starts an in-memory `temporal server start-dev` on port $1 (its log in $2)
# and waits until it listens; its pid is in $server.
start_dev_server() {
  temporal server start-dev --headless --port "$1" --http-port "$(port)" --metrics-port "$(port)" \
    --log-level error >"$2" 2>&1 &
  server=$!
  wait_port "$1"
}
