# shellcheck shell=bash
# Progress while imaging: a background loop that reads the byte counter of
# the running pipeline (count_stage), prints a line on the console and
# POSTs /progress every progressSeconds. When the server answers "stop" it
# marks the task cancelled and ends the pipeline's process group.

PROGRESS_PID=''

# progress_set LABEL DONE_BEFORE TOTAL COUNTER: what is running now: the
# partition's label, bytes finished before it, the task's total, and the
# counter file of its count_stage.
progress_set() {
  [[ -n $WORK ]] || return 0
  printf '%s %s %s %s\n' "$1" "$2" "$3" "$4" >"$WORK/progress.state.new" &&
    mv -f "$WORK/progress.state.new" "$WORK/progress.state"
}

progress_clear() { rm -f "$WORK/progress.state"; }

# progress_start SECONDS: starts the loop (posting only when a server is set).
progress_start() {
  local interval=${1:-3}
  [[ $interval =~ ^[0-9]+$ ]] && ((interval > 0)) || interval=3
  progress_loop "$interval" &
  PROGRESS_PID=$!
}

# progress_stop: ends the loop this agent started.
progress_stop() {
  [[ -n $PROGRESS_PID ]] || return 0
  kill "$PROGRESS_PID" 2>/dev/null
  wait "$PROGRESS_PID" 2>/dev/null
  PROGRESS_PID=''
  return 0
}

# progress_line LABEL DONE TOTAL RATE ETA_SECONDS: "part2 1.2 GB of 3.4 GB, 95.0 MB/s, ETA 0:23".
progress_line() {
  local eta='?'
  [[ $5 =~ ^[0-9]+$ ]] && eta=$(human_duration "$5")
  printf '%s %s of %s, %s/s, ETA %s' "$1" "$(human_bytes "$2")" "$(human_bytes "$3")" "$(human_bytes "$4")" "$eta"
}

progress_loop() {
  local interval=$1 label before total counter
  local done_bytes last_done=-1 last_ms now rate average eta started reply samples=0 refusals=0
  trap - TERM INT EXIT
  started=$(now_ms)
  last_ms=$started
  local quiet=0 last_label=preparing last_total=0
  while sleep "$interval"; do
    if [[ ! -f $WORK/progress.state ]]; then
      # Shrinking, growing or checking a filesystem moves no image bytes but can take many minutes:
      # a heartbeat every ~30 s keeps the server from taking the silence for a dead machine.
      quiet=$((quiet + interval))
      if ((quiet < 30)) || [[ -z $PROTO_BASE ]]; then continue; fi
      quiet=0
      label=$last_label before=$((last_done < 0 ? 0 : last_done)) total=$last_total counter=''
      ((total < before)) && total=$before
    else
      quiet=0
      read -r label before total counter <"$WORK/progress.state" || continue
    fi
    last_label=$label last_total=$total
    done_bytes=$((before + $(count_now "$counter")))
    ((total < done_bytes)) && total=$done_bytes
    now=$(now_ms)
    rate=0
    if ((last_done >= 0 && now > last_ms && done_bytes >= last_done)); then
      rate=$(((done_bytes - last_done) * 1000 / (now - last_ms)))
    fi
    last_done=$done_bytes
    last_ms=$now
    eta=''
    # The first samples say little about the rate: no ETA before the second one.
    samples=$((samples + 1))
    if ((samples > 1 && now > started)); then
      average=$((done_bytes * 1000 / (now - started)))
      ((average > 0)) && eta=$(((total - done_bytes) / average))
    fi
    say "$(progress_line "$label" "$done_bytes" "$total" "$rate" "$eta")"
    [[ -n $PROTO_BASE ]] || continue
    reply=$(post_progress "$done_bytes" "$total" "$rate" "$label")
    # Refused (401/403) three times in a row is the task ending; once may be a server restarting.
    if [[ $reply == refused* ]]; then
      refusals=$((refusals + 1))
      ((refusals >= 3)) && reply="stop ${reply#refused }"
    else
      refusals=0
    fi
    if [[ $reply == stop* ]]; then
      reply=${reply#stop }
      printf '%s\n' "$reply" >"$WORK/cancelled"
      state cancelling "reason=\"$reply\""
      pipeline_kill
      return 0
    fi
  done
}

# progress_probe: after a failure, one more report: if the server answers
# stop, the failure was the cancel's doing (its downloads refused, say), and
# the task counts as cancelled (0), not failed.
progress_probe() {
  [[ -n $PROTO_BASE ]] || return 1
  local label=probe before=0 total=0 counter='' done_bytes reply
  [[ -f $WORK/progress.state ]] && read -r label before total counter <"$WORK/progress.state"
  done_bytes=$((before + $(count_now "$counter")))
  ((total < done_bytes)) && total=$done_bytes
  reply=$(BRUME_RETRY_SECONDS=20 API_REFUSED_SECONDS=20 post_progress "$done_bytes" "$total" 0 "$label")
  [[ $reply == stop* || $reply == refused* ]] || return 1
  reply=${reply#stop }
  printf '%s\n' "${reply#refused }" >"$WORK/cancelled"
  return 0
}
