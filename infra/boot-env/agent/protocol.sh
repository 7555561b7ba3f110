# shellcheck shell=bash disable=SC2034 # globals shared between the modules
# The calls of docs/client-protocol.md, with curl and jq. The token is only
# ever in a header file in the private work directory: it appears in no
# command line, no log and no error report.

PROTO_BASE=''
PROTO_HEADERS=''
API_STATUS='' API_BODY='' API_ERROR=''

# proto_init: the base URL and the header file every call carries.
proto_init() {
  PROTO_BASE="$BRUME_SERVER/api/client/v1/tasks/$BRUME_TASK"
  PROTO_HEADERS=$WORK/auth.headers
  (
    umask 077
    printf 'Authorization: Bearer %s\nX-Brume-Mac: %s\n' "$BRUME_TOKEN" "$BRUME_MAC" >"$PROTO_HEADERS"
  )
}

# new_key: a fresh Idempotency-Key, so a retried POST has no second effect.
new_key() {
  local key
  key=$(cat /proc/sys/kernel/random/uuid 2>/dev/null) || key="$BRUME_TASK-$RANDOM$RANDOM-$SECONDS"
  printf '%s' "$key"
}

# api_message: the server's "message" (or its body, shortened) for reports.
api_message() {
  local message
  message=$(jq -r '.message // .error // empty' <<<"$API_BODY" 2>/dev/null)
  [[ -n $message ]] || message=${API_BODY:0:300}
  printf '%s' "$message"
}

# retryable_status CODE: answers worth trying again (the server restarting,
# a proxy in between); everything else 4xx is final.
retryable_status() {
  [[ $1 == 000 || $1 == 408 || $1 == 429 || $1 == 5?? ]]
}

# api_call METHOD PATH [JSON]: one protocol call. Sets API_STATUS, API_BODY
# and, on failure, API_ERROR. Returns 0 for a 2xx answer. Connection
# failures and 5xx answers are retried for BRUME_RETRY_SECONDS, unless
# API_ONCE=1. API_REFUSED_SECONDS=N also retries 401/403 for N seconds (a
# server just restarted may not know the task's token yet). API_KEY=KEY
# sends an Idempotency-Key.
api_call() {
  local method=$1 path=$2 body=${3-}
  local tag=$BASHPID
  local out=$WORK/api-$tag.out err=$WORK/api-$tag.err input=$WORK/api-$tag.in
  local args=(-sS -X "$method" -H "@$PROTO_HEADERS" -o "$out" -w '%{http_code}'
    --connect-timeout 5 --max-time "${API_MAX_TIME:-60}")
  [[ -n ${API_KEY:-} ]] && args+=(-H "Idempotency-Key: $API_KEY")
  if [[ -n $body ]]; then
    printf '%s' "$body" >"$input"
    args+=(-H 'Content-Type: application/json' --data-binary "@$input")
  fi
  local started=$SECONDS delay=1 rc warned=0
  while :; do
    rm -f "$out"
    API_STATUS=$(curl "${args[@]}" "$PROTO_BASE$path" 2>"$err")
    rc=$?
    API_BODY=$(cat "$out" 2>/dev/null)
    [[ -n $API_STATUS ]] || API_STATUS=000
    if ((rc == 0)) && [[ $API_STATUS == 2?? ]]; then
      API_ERROR=''
      return 0
    fi
    if ((rc != 0)); then
      API_ERROR="$method $path: no answer from $BRUME_SERVER (curl exit $rc: $(tail -n 1 "$err"))"
      API_STATUS=000
    else
      API_ERROR="$method $path: HTTP $API_STATUS: $(api_message)"
    fi
    if [[ ${API_ONCE:-0} == 1 ]] || ((SECONDS - started >= BRUME_RETRY_SECONDS)); then
      return 1
    fi
    if ! retryable_status "$API_STATUS"; then
      api_refused && ((SECONDS - started < ${API_REFUSED_SECONDS:-0})) || return 1
    fi
    if ((warned == 0)); then
      warn "$API_ERROR; retrying for up to ${BRUME_RETRY_SECONDS}s"
      warned=1
    fi
    sleep "$delay"
    delay=$((delay * 2 > 10 ? 10 : delay * 2))
  done
}

# api_refused: whether the last failure was the server refusing us (401/403):
# the task ended, or the token or MAC is wrong. Retrying cannot help.
api_refused() { [[ $API_STATUS == 401 || $API_STATUS == 403 ]]; }

# check_in_loop: POST /check-in until the server says go (0; the answer in
# $WORK/go.json) or stop (3; the reason in STOP_REASON). 4 when the server
# cannot be reached or refuses the token.
STOP_REASON=''
check_in_loop() {
  local action ahead message poll last_message=''
  state checking-in "server=$BRUME_SERVER" "task=$BRUME_TASK"
  while :; do
    if ! api_call POST /check-in '{}'; then
      if api_refused; then state refused "status=$API_STATUS"; else state unreachable "status=$API_STATUS"; fi
      say "check-in failed: $API_ERROR"
      return 4
    fi
    action=$(jq -r '.action // empty' <<<"$API_BODY")
    case $action in
      wait)
        ahead=$(jq -r '.ahead // 0' <<<"$API_BODY")
        message=$(jq -r '.message // ""' <<<"$API_BODY")
        poll=$(jq -r '.pollSeconds // 5' <<<"$API_BODY")
        [[ $poll =~ ^[0-9]+$ ]] && ((poll > 0)) || poll=5
        state waiting "ahead=$ahead"
        [[ $message != "$last_message" ]] && say "$message"
        last_message=$message
        sleep "$poll"
        ;;
      go)
        printf '%s' "$API_BODY" >"$WORK/go.json"
        return 0
        ;;
      stop)
        STOP_REASON=$(jq -r '.reason // "the server stopped the task"' <<<"$API_BODY")
        return 3
        ;;
      *)
        say "check-in: unexpected answer: ${API_BODY:0:300}"
        state unreachable "status=$API_STATUS"
        return 4
        ;;
    esac
  done
}

# post_complete [MANIFEST_FILE]: POST /complete; sets AFTER_TASK from the answer.
post_complete() {
  local body='{}'
  [[ -n ${1:-} ]] && body=$(jq -c '{manifest: .}' "$1")
  API_KEY=$(new_key) API_REFUSED_SECONDS=30 api_call POST /complete "$body" || return 1
  AFTER_TASK=$(jq -r '.afterTask // empty' <<<"$API_BODY")
  return 0
}

# post_fail REASON COMMAND OUTPUT: POST /fail; sets AFTER_TASK from the answer.
post_fail() {
  local body output=$3
  ((${#output} > 8000)) && output=${output:${#output}-8000}
  body=$(jq -nc --arg reason "${1:0:1000}" --arg command "${2:0:2000}" --arg output "$output" \
    '{reason: $reason} + (if $command != "" then {command: $command} else {} end) + {output: $output}')
  API_KEY=$(new_key) API_REFUSED_SECONDS=30 api_call POST /fail "$body" || return 1
  AFTER_TASK=$(jq -r '.afterTask // empty' <<<"$API_BODY")
  return 0
}

# post_progress DONE TOTAL RATE PARTITION: one try, short; prints the action:
# "continue", "stop <reason>", "refused <why>" (401/403), or "unknown" when
# the server did not answer.
post_progress() {
  local body
  body=$(jq -nc --argjson 'done' "$1" --argjson total "$2" --argjson rate "$3" --arg partition "$4" \
    '{bytesDone: $done, bytesTotal: $total, rateBytesPerSecond: $rate, partition: $partition}')
  local once=1
  ((${API_REFUSED_SECONDS:-0} > 0)) && once=0
  if ! API_ONCE=$once API_MAX_TIME=10 api_call POST /progress "$body"; then
    if api_refused; then
      printf 'refused the server no longer accepts this task (HTTP %s: %s)' "$API_STATUS" "$(api_message)"
    else
      printf 'unknown'
    fi
    return 0
  fi
  local action
  action=$(jq -r '.action // "continue"' <<<"$API_BODY")
  if [[ $action == stop ]]; then
    printf 'stop %s' "$(jq -r '.reason // "the task was cancelled"' <<<"$API_BODY")"
  else
    printf 'continue'
  fi
}

# post_inventory JSON_FILE
post_inventory() {
  api_call POST /inventory "$(cat "$1")"
}

# get_manifest FILE: GET /image/manifest into FILE.
get_manifest() {
  api_call GET /image/manifest || return 1
  printf '%s' "$API_BODY" >"$1"
}

# sink_upload NAME: a pipeline's last stage: PUTs stdin as capture file NAME.
# The server's answer goes to $PIPE_DIR/sink.json. A failure worth a retry
# of the whole partition (the server went away or answered 5xx) leaves
# $PIPE_DIR/sink.retry; curl killed by a signal on this machine is not one.
sink_upload() {
  local name=$1 code rc
  code=$(curl -sS -X PUT -T - -H "@$PROTO_HEADERS" -H 'Content-Type: application/octet-stream' -H 'Expect:' \
    -o "$PIPE_DIR/sink.json" -w '%{http_code}' --connect-timeout 10 \
    "$PROTO_BASE/capture/files/$name")
  rc=$?
  [[ -n $code ]] || code=000
  if ((rc != 0)); then
    if ((rc > 128)); then
      printf 'PUT %s: curl was killed (signal %s) after HTTP %s\n' "$name" $((rc - 128)) "$code" >&2
    else
      printf 'PUT %s: curl exit %s (HTTP %s)\n' "$name" "$rc" "$code" >&2
      : >"$PIPE_DIR/sink.retry"
    fi
    return "$rc"
  fi
  if [[ $code != 2?? ]]; then
    printf 'PUT %s: HTTP %s: %s\n' "$name" "$code" "$(head -c 500 "$PIPE_DIR/sink.json" 2>/dev/null)" >&2
    retryable_status "$code" && : >"$PIPE_DIR/sink.retry"
    return 22
  fi
  return 0
}

# header_value FILE NAME: the last value of an HTTP header in a curl -D dump.
header_value() {
  local line value='' name=${2,,}
  while IFS= read -r line; do
    line=${line%$'\r'}
    [[ ${line,,} == "$name":* ]] && { value=${line#*:}; value=${value# }; }
  done <"$1" 2>/dev/null
  printf '%s' "$value"
}

# header_status FILE: the last HTTP status in a curl -D dump (000 if none).
header_status() {
  local line status=000
  while IFS= read -r line; do
    [[ $line =~ ^HTTP/[0-9.]+\ ([0-9]{3}) ]] && status=${BASH_REMATCH[1]}
  done <"$1" 2>/dev/null
  printf '%s' "$status"
}

# source_server NAME SIZE SHA256: a pipeline's first stage: writes image file
# NAME to stdout. A download cut off part-way resumes with a Range request
# from the bytes already passed on, so the stream downstream stays exact;
# it keeps trying (the server restarting) until BRUME_RETRY_SECONDS go by
# without a byte. 401, 403 and 409 are tried again too: a restarted server
# may not know the token yet, and a task that really ended is the progress
# loop's to stop. SIZE and SHA256 (from the manifest; may be empty) are
# checked against what arrives.
source_server() {
  local name=$1 size=${2:-} sha=${3:-}
  local url="$PROTO_BASE/image/files/$name" tag=${PIPE_DIR:-$WORK}/fetch-$BASHPID
  local received=0 last_data=$SECONDS delay=1 n status served_sha rc_curl rc_count console=${CONSOLE_FD:-2}
  while :; do
    [[ -n $size ]] && ((received >= size)) && break
    local args=(-sS --fail -H "@$PROTO_HEADERS" -D "$tag.headers" --connect-timeout 10
      --speed-limit 1 --speed-time 60)
    ((received > 0)) && args+=(-C "$received")
    curl "${args[@]}" "$url" 2>"$tag.curl" | count_stage "$tag"
    rc_curl=${PIPESTATUS[0]} rc_count=${PIPESTATUS[1]}
    n=$(count_result "$tag") || n=0
    received=$((received + n))
    ((n > 0)) && { last_data=$SECONDS; delay=1; }
    # The pipe downstream closed: restore or decompression failed there.
    ((rc_count != 0)) && return "$rc_count"
    status=$(header_status "$tag.headers")
    served_sha=$(header_value "$tag.headers" x-brume-sha256)
    if [[ -n $sha && -n $served_sha && ${served_sha,,} != "${sha,,}" ]]; then
      printf '%s: the server serves sha256 %s but the manifest says %s\n' "$name" "$served_sha" "$sha" >&2
      return 1
    fi
    if ((rc_curl == 0)); then
      [[ -z $size ]] && break
      if ((received > size)); then
        printf '%s: received %s bytes, more than the manifest'"'"'s %s\n' "$name" "$received" "$size" >&2
        return 1
      fi
      ((received == size)) && break
    elif [[ $status == 4?? && ! $status =~ ^(401|403|408|409|429)$ ]] || ((rc_curl == 33 || rc_curl == 23)); then
      printf '%s: download failed at byte %s (curl exit %s, HTTP %s): %s\n' "$name" "$received" "$rc_curl" "$status" "$(tail -n 1 "$tag.curl")" >&2
      return 22
    fi
    if ((SECONDS - last_data >= BRUME_RETRY_SECONDS)); then
      printf '%s: gave up after %ss without data at byte %s of %s (curl exit %s, HTTP %s): %s\n' \
        "$name" "$((SECONDS - last_data))" "$received" "${size:-?}" "$rc_curl" "$status" "$(tail -n 1 "$tag.curl")" >&2
      return 1
    fi
    printf 'brume-agent: %s interrupted at byte %s of %s (curl exit %s, HTTP %s); resuming in %ss\n' \
      "$name" "$received" "${size:-?}" "$rc_curl" "$status" "$delay" >&"$console"
    sleep "$delay"
    delay=$((delay * 2 > 10 ? 10 : delay * 2))
  done
  return 0
}
