# shellcheck shell=bash
# Console lines and human-readable numbers.
#
# Every line the agent prints starts with "brume-agent: ". Machine-readable
# lines are "key=value" words (state=waiting ahead=3), so a test or an
# operator can follow the agent with grep.

# say TEXT...: one line on stdout.
say() { printf 'brume-agent: %s\n' "$*"; }

# state NAME [KEY=VALUE...]: the agent's state, e.g. "brume-agent: state=waiting ahead=3".
state() {
  local name=$1
  shift
  say "state=$name${*:+ $*}"
}

# warn TEXT...: a problem the agent carries on after, on stderr.
warn() { printf 'brume-agent: warning: %s\n' "$*" >&2; }

# debug TEXT...: only with brume.debug=1 / --debug.
debug() {
  [[ ${BRUME_DEBUG:-0} == 1 ]] && printf 'brume-agent: debug: %s\n' "$*" >&2
  return 0
}

# human_bytes N: decimal units with one decimal, e.g. 1234567890 -> "1.2 GB".
human_bytes() {
  local n=${1:-0} unit=1 i=0
  local -a names=(B kB MB GB TB PB)
  ((n < 1000)) && { printf '%d B' "$n"; return; }
  while ((n / unit >= 1000 && i < 5)); do
    unit=$((unit * 1000))
    i=$((i + 1))
  done
  local tenths=$(((n * 10 + unit / 2) / unit))
  # n * 10 overflows above 900 PB; those disks do not exist yet.
  printf '%d.%d %s' $((tenths / 10)) $((tenths % 10)) "${names[i]}"
}

# human_duration SECONDS: "0:23", "12:05", "1:02:03".
human_duration() {
  local s=${1:-0}
  if ((s >= 3600)); then
    printf '%d:%02d:%02d' $((s / 3600)) $((s % 3600 / 60)) $((s % 60))
  else
    printf '%d:%02d' $((s / 60)) $((s % 60))
  fi
}

# now_ms: wall-clock milliseconds, without forking (bash 5's EPOCHREALTIME).
now_ms() {
  local t=${EPOCHREALTIME/[.,]/}
  printf '%d' $((10#${t:0:${#t}-3}))
}

# quote_cmd ARGS...: the command line as a shell would read it, for error reports.
quote_cmd() {
  local out
  printf -v out '%q ' "$@"
  printf '%s' "${out% }"
}
