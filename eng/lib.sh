# Shared helpers of the eng/ scripts (demo and benchmarks). Source it; it defines functions only.

# A free TCP port on 127.0.0.1.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

# The median of the numbers on stdin, one per line.
median() { sort -g | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

# The same as "median (min–max)", two decimals.
median_spread() { sort -g | awk '{ a[NR] = $1 } END { printf "%.2f (%.2f–%.2f)", a[int((NR + 1) / 2)], a[1], a[NR] }'; }

# Waits up to 10 s for URL to answer 2xx; with a second argument "any", any HTTP answer will do.
wait_http() {
  local fail=-f; [ "${2:-}" = any ] && fail=
  for _ in $(seq 1 200); do curl $fail -sS -o /dev/null "$1" 2>/dev/null && return 0; sleep 0.05; done
  echo "timed out waiting for $1" >&2; return 1
}

# wait_http inside network namespace NETNS. Usage: wait_http_in NETNS URL [any]
wait_http_in() { ip netns exec "$1" bash -c "$(declare -f wait_http); wait_http $2 ${3:-}"; }

now() { date +%s.%N; }

# Seconds from $1 to $2 (timestamps of now), with ${3:-3} decimals.
elapsed() { awk -v a="$1" -v b="$2" -v d="${3:-3}" 'BEGIN { printf "%.*f", d, b - a }'; }

# CPU seconds (user + system) a process has used so far; 0 when it is gone.
cpu_of() { awk -v t="$(getconf CLK_TCK)" '{ printf "%.3f", ($14 + $15) / t }' "/proc/$1/stat" 2>/dev/null || echo 0; }

# Peak resident set of a process in kB; 0 when it is gone.
hwm_kb() { awk '/VmHWM/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }

# Starts an nginx origin serving DIR/www on ADDR:PORT (ADDR defaults to 127.0.0.1) with its files under DIR, logging
# "status bytes request" lines to DIR/access.log; prints nginx's pid. With NETNS, nginx runs (and is waited for) inside
# that network namespace. Usage: start_origin DIR PORT [ADDR] [NETNS]
start_origin() {
  local dir=$1 port=$2 addr=${3:-127.0.0.1} netns=${4:-}
  local in=(); [ -n "$netns" ] && in=(ip netns exec "$netns")
  command -v nginx >/dev/null || { echo "nginx is required (apt-get install nginx-light)" >&2; return 1; }
  mkdir -p "$dir/www"
  cat > "$dir/nginx.conf" <<NGINX
daemon off;
pid $dir/nginx.pid;
error_log $dir/nginx-error.log;
worker_processes 1;
events {}
http {
  log_format bytes '\$status \$body_bytes_sent \$request';
  access_log $dir/access.log bytes;
  sendfile on;
  client_body_temp_path $dir; proxy_temp_path $dir; fastcgi_temp_path $dir; uwsgi_temp_path $dir; scgi_temp_path $dir;
  server { listen $addr:$port; root $dir/www; }
}
NGINX
  echo ok > "$dir/www/ready.txt"
  "${in[@]}" nginx -c "$dir/nginx.conf" > /dev/null 2>&1 &
  local pid=$!
  if [ -n "$netns" ]; then
    wait_http_in "$netns" "http://$addr:$port/ready.txt" >&2 || return 1
  else
    wait_http "http://$addr:$port/ready.txt" >&2 || return 1
  fi
  echo "$pid"
}

# Stops what a script started under WORK and removes WORK (kept when KEEP is non-empty): first the detached dfget
# uploaders whose homes are there, waiting until they are gone (on the way out they report service-down to the
# supernode and zero their host.meta), then the given pids. Usage: stop_work WORK KEEP [PID...]
stop_work() {
  local work=$1 keep=$2; shift 2
  pkill -f "dfget server .*$work" 2>/dev/null || true
  for _ in $(seq 1 50); do pgrep -f "dfget server .*$work" >/dev/null || break; sleep 0.1; done
  for p in "$@"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ -n "$keep" ]; then echo "kept $work"; else rm -rf "$work"; fi
}
