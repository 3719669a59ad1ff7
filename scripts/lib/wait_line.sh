# Sourced by the bench scripts.
# wait_line FILE REGEX SECONDS PID: until FILE has a line matching REGEX; fails when PID dies
# without writing it, or after SECONDS.
wait_line() {
  local i
  for (( i = 0; i < $3 * 20; i++ )); do
    grep -qE -- "$2" "$1" 2>/dev/null && return 0
    kill -0 "$4" 2>/dev/null || { grep -qE -- "$2" "$1" 2>/dev/null; return; }
    sleep 0.05
  done
  return 1
}
