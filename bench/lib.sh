# Shell functions the benchmark scripts share; sourced, not run.

# utime + stime of a process, in clock ticks.
cpu_ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }

# A /proc/PID/status value in kB (VmRSS, VmHWM).
status_kb() { awk -v k="$2:" '$1 == k {print $2}' "/proc/$1/status"; }

# Waits until something accepts TCP on 127.0.0.1:PORT, trying TRIES times
# 50 ms apart (default 200, i.e. 10 s).
wait_port() {
  for _ in $(seq 1 "${2:-200}"); do
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    sleep 0.05
  done
  echo "nothing listens on 127.0.0.1:$1" >&2
  return 1
}
