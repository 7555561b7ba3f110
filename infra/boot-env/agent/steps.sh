# shellcheck shell=bash disable=SC2034 # globals shared between the modules
# Running commands so that every failure can be reported: which step failed,
# the command line, its exit code and the last lines it printed. Pipelines
# run in their own process group so that a cancel ends every stage at once.

FAIL_REASON='' FAIL_COMMAND='' FAIL_OUTPUT=''
WORK=${WORK:-}
LOG_SEQ=0
PIPE_DIR=''
PIPE_NAMES=()
PIPE_CMDS=()
CLEANUPS=()

# work_init [DIR]: the scratch directory (private: it holds the auth header).
work_init() {
  local dir=${1:-}
  if [[ -z $dir ]]; then
    local base=/run/brume
    mkdir -p "$base" 2>/dev/null && [[ -w $base ]] || base=${TMPDIR:-/tmp}
    dir=$(mktemp -d "$base/agent.XXXXXX") || return 1
  fi
  mkdir -p "$dir/log" || return 1
  chmod 700 "$dir"
  WORK=$dir
}

# work_log NAME: a new log file's path in WORK_LOG (not printed: a
# command substitution would lose the count and reuse names).
WORK_LOG=''
work_log() {
  LOG_SEQ=$((LOG_SEQ + 1))
  printf -v WORK_LOG '%s/log/%03d-%s.log' "$WORK" "$LOG_SEQ" "${1//[^A-Za-z0-9._-]/_}"
}

# fail_set REASON [COMMAND] [FILE...]: records a failure for POST /fail.
fail_set() {
  FAIL_REASON=$1
  FAIL_COMMAND=${2:-}
  FAIL_OUTPUT=''
  shift 2 2>/dev/null || shift $#
  local file
  for file in "$@"; do
    [[ -s $file ]] || continue
    # Progress bars redraw with carriage returns; keep what the last redraw left.
    FAIL_OUTPUT+=$(tail -n 50 "$file" | sed 's/.*\r//')$'\n'
  done
  FAIL_OUTPUT=$(printf '%s' "$FAIL_OUTPUT" | tail -n 50)
  return 1
}

# fail_note REASON: a failure that is not a command's (a check); returns 1.
fail_note() { fail_set "$1" '' ; }

# code_ok CODE "0 1": whether CODE is in the list.
code_ok() {
  local c
  for c in $2; do [[ $1 == "$c" ]] && return 0; done
  return 1
}

# run STEP CMD...: runs CMD with its output in a log file. Exit codes in
# RUN_OK (default "0") count as success. On failure: fail_set, return 1.
# RUN_STDOUT=FILE sends stdout there instead of the log.
run() {
  local step=$1
  shift
  local log rc
  work_log "$1"
  log=$WORK_LOG
  debug "run: $(quote_cmd "$@")"
  if [[ -n ${RUN_STDOUT:-} ]]; then
    "$@" >"$RUN_STDOUT" 2>"$log"
  else
    "$@" >"$log" 2>&1
  fi
  rc=$?
  [[ ${BRUME_DEBUG:-0} == 1 ]] && sed 's/^/  | /' "$log" >&2
  code_ok "$rc" "${RUN_OK:-0}" && return 0
  fail_set "$step: $1 failed (exit $rc)" "$(quote_cmd "$@")" "$log"
}

# pipeline_new NAME...: a fresh directory for the next pipeline; its stages'
# names (for blame) in order. Set PIPE_CMDS to their command lines.
pipeline_new() {
  PIPE_DIR=$(mktemp -d "$WORK/pipe.XXXXXX") || return 1
  PIPE_NAMES=("$@")
  PIPE_CMDS=()
}

# pipeline_status CODES...: what a pipeline function calls right after its
# pipeline with "${PIPESTATUS[@]}".
pipeline_status() { printf '%s\n' "$*" >"$PIPE_DIR/status"; }

# pipeline_run FUNCTION ARGS...: runs FUNCTION (which runs one pipeline and
# calls pipeline_status) in the background, in its own process group, and
# waits for it. The group id is in $WORK/pipeline.pgid for pipeline_kill.
pipeline_run() {
  local pid rc
  set -m
  "$@" &
  pid=$!
  set +m
  printf '%s\n' "$pid" >"$WORK/pipeline.pgid"
  wait "$pid"
  rc=$?
  # A signal handler interrupts wait (rc > 128) while the group still runs.
  while kill -0 "$pid" 2>/dev/null; do
    wait "$pid"
    rc=$?
  done
  rm -f "$WORK/pipeline.pgid"
  return "$rc"
}

# pipeline_kill: ends the running pipeline's whole process group: TERM,
# then KILL 5 s later if that same pipeline is still running.
pipeline_kill() {
  local pgid file=$WORK/pipeline.pgid
  pgid=$(cat "$file" 2>/dev/null) || return 0
  [[ $pgid =~ ^[0-9]+$ ]] || return 0
  kill -TERM -- "-$pgid" 2>/dev/null
  (
    sleep 5
    [[ $(cat "$file" 2>/dev/null) == "$pgid" ]] && kill -KILL -- "-$pgid" 2>/dev/null
  ) &
  return 0
}

# pipeline_blame STEP: 0 if every stage succeeded; else fail_set naming the
# stage that failed first. Upstream stages killed by SIGPIPE (141) are the
# victims of a later stage, and downstream stages fail when an earlier one
# ends early, so the first stage that failed otherwise is the cause.
pipeline_blame() {
  local step=$1 codes=() i culprit=-1
  if ! read -r -a codes <"$PIPE_DIR/status" 2>/dev/null; then
    fail_set "$step: the pipeline was interrupted" "$(pipeline_display)"
    return 1
  fi
  for i in "${!codes[@]}"; do
    if [[ ${codes[i]} != 0 && ${codes[i]} != 141 ]]; then culprit=$i; break; fi
  done
  if ((culprit < 0)); then
    for i in "${!codes[@]}"; do
      if [[ ${codes[i]} != 0 ]]; then culprit=$i; break; fi
    done
  fi
  ((culprit < 0)) && return 0
  local name=${PIPE_NAMES[culprit]:-stage$culprit}
  # partclone's log (-L) says more than its stderr, which only points to the log.
  local files=("$PIPE_DIR/$name.err")
  [[ -s $PIPE_DIR/$name.log ]] && files=("$PIPE_DIR/$name.log")
  fail_set "$step: $name failed (exit ${codes[culprit]})" "${PIPE_CMDS[culprit]:-$(pipeline_display)}" "${files[@]}"
}

# pipeline_display: the whole pipeline as one command line.
pipeline_display() {
  local out='' c
  for c in "${PIPE_CMDS[@]}"; do out+="${out:+ | }$c"; done
  printf '%s' "$out"
}

# count_stage FILE: a pipeline stage that copies stdin to stdout and counts
# the bytes: tee's pid in FILE.pid (progress reads its /proc/PID/io), the
# total in FILE.count once it is done (count_result). tee and wc, not dd:
# busybox's dd does not say how many bytes it copied.
count_stage() {
  local file=$1 reader rc
  rm -f "$file.fifo" "$file.count"
  mkfifo "$file.fifo" || return 1
  wc -c <"$file.fifo" >"$file.count" &
  reader=$!
  (
    printf '%s\n' "$BASHPID" >"$file.pid"
    exec tee "$file.fifo"
  ) 2>"$file.err"
  rc=$?
  wait "$reader"
  return "$rc"
}

# count_result FILE: the byte count of a finished count_stage.
count_result() {
  local n
  n=$(cat "$1.count" 2>/dev/null) || return 1
  n=${n//[[:space:]]/}
  [[ $n =~ ^[0-9]+$ ]] || return 1
  printf '%s' "$n"
}

# count_now FILE: bytes a count_stage has read so far: from /proc/PID/io
# while it runs, its final count once it has ended (0 before it starts).
count_now() {
  local pid line
  pid=$(cat "$1.pid" 2>/dev/null) || { printf 0; return; }
  if [[ -r /proc/$pid/io ]]; then
    while IFS= read -r line; do
      [[ $line == rchar:* ]] && { printf '%s' "${line#rchar: }"; return; }
    done 2>/dev/null <"/proc/$pid/io"
  fi
  count_result "$1" 2>/dev/null || printf 0
}

# cleanup_push CMD...: something to undo if the agent dies before cleanup_pop
# (a filesystem shrunk for capture is grown back).
cleanup_push() { CLEANUPS+=("$(quote_cmd "$@")"); }
cleanup_pop() { ((${#CLEANUPS[@]})) && unset 'CLEANUPS[-1]'; return 0; }
cleanup_run_all() {
  local i
  for ((i = ${#CLEANUPS[@]} - 1; i >= 0; i--)); do
    eval "${CLEANUPS[i]}" || warn "clean-up failed: ${CLEANUPS[i]}"
  done
  CLEANUPS=()
}

# cancelled: whether the server cancelled the task (the progress loop says so).
cancelled() { [[ -n $WORK && -f $WORK/cancelled ]]; }
cancel_reason() { cat "$WORK/cancelled" 2>/dev/null; }
