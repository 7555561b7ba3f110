# shellcheck shell=bash disable=SC2034 # globals shared between the modules
# The agent's settings: the kernel command line (brume.*), then the
# environment (BRUME_*), then options (--server ...). Later sources win.

BRUME_AGENT_VERSION=0.1.0

settings_usage() {
  cat <<'EOF'
Usage: brume-agent [options]

Runs the brume task this machine was booted for: checks in with the server,
waits for a slot, then captures, deploys, inventories or wipes the disk.
Settings come from /proc/cmdline (brume.server= brume.mac= brume.task=
brume.token= brume.mode= brume.disk= brume.debug=1), BRUME_* variables,
and these options (options win):

  --server URL        brume server, e.g. http://192.0.2.1:8080
  --mac MAC           this machine's MAC (as the server knows it)
  --task ID           the task id
  --token TOKEN       the task's one-time token (or BRUME_TOKEN; never printed)
  --disk DEVICE       the disk to image (default: first non-removable disk)
  --image ID          the image to deploy (deploy-image mode; brume.image=)
  --mode MODE         task (default), quick-register, register (asks for a name), inventory,
                      or deploy-image (an operator signs in; needs --image)
  --after-file FILE   where to write reboot|shutdown|stay (default /run/brume/after-task)
  --work-dir DIR      scratch directory (default: a new directory under /run/brume or /tmp)
  --cmdline FILE      read brume.* settings from FILE instead of /proc/cmdline
  --retry-seconds N   how long to keep retrying an unreachable server (default 300)
  --debug             verbose output; a shell before and after the job on a console
  --self-check        print the version of every tool the agent needs; exit 1 if one is missing
  --version, --help

Exit status: 0 task done; 1 task failed (reported to the server); 2 bad
settings or unsupported boot mode; 3 the server stopped or cancelled the
task; 4 the server could not be reached or refused the token.
EOF
}

# settings_from_cmdline FILE: brume.KEY=VALUE words of a kernel command line.
settings_from_cmdline() {
  local file=$1 word key value
  [[ -r $file ]] || return 0
  local -
  set -f
  local line
  line=$(<"$file")
  for word in $line; do
    [[ $word == brume.*=* ]] || continue
    key=${word%%=*}
    key=${key#brume.}
    value=${word#*=}
    value=${value#\"}
    value=${value%\"}
    case $key in
      server) BRUME_SERVER=$value ;;
      mac) BRUME_MAC=$value ;;
      task) BRUME_TASK=$value ;;
      token) BRUME_TOKEN=$value ;;
      mode) BRUME_MODE=$value ;;
      disk) BRUME_DISK=$value ;;
      debug) BRUME_DEBUG=$value ;;
      action) BRUME_ACTION=$value ;;
      image) BRUME_IMAGE=$value ;;
    esac
  done
}

# settings_load ARGS...: fills the BRUME_* globals; returns 2 on a bad option.
settings_load() {
  # The environment's values, kept to be applied over the command line.
  local -A env_values=()
  local name
  for name in BRUME_SERVER BRUME_MAC BRUME_TASK BRUME_TOKEN BRUME_MODE BRUME_DISK BRUME_DEBUG \
    BRUME_AFTER_FILE BRUME_WORK_DIR BRUME_RETRY_SECONDS; do
    [[ -n ${!name:-} ]] && env_values[$name]=${!name}
  done
  BRUME_SERVER='' BRUME_MAC='' BRUME_TASK='' BRUME_TOKEN='' BRUME_MODE=task BRUME_DISK='' BRUME_DEBUG=0
  BRUME_ACTION='' BRUME_IMAGE='' BRUME_AFTER_FILE=/run/brume/after-task BRUME_WORK_DIR=''
  BRUME_RETRY_SECONDS=300 BRUME_SELF_CHECK=0
  local cmdline=/proc/cmdline args=("$@") i
  for ((i = 0; i < ${#args[@]}; i++)); do
    [[ ${args[i]} == --cmdline ]] && cmdline=${args[i + 1]:-}
    [[ ${args[i]} == --cmdline=* ]] && cmdline=${args[i]#--cmdline=}
  done
  settings_from_cmdline "$cmdline"
  for name in "${!env_values[@]}"; do printf -v "$name" '%s' "${env_values[$name]}"; done

  while (($#)); do
    local opt=$1 value=''
    if [[ $opt == --*=* ]]; then
      value=${opt#*=}
      opt=${opt%%=*}
      set -- "$opt" "$value" "${@:2}"
    fi
    case $opt in
      --server | --mac | --task | --token | --disk | --mode | --image | --after-file | --work-dir | --cmdline | --retry-seconds)
        if (($# < 2)); then
          printf 'brume-agent: %s needs a value\n' "$opt" >&2
          return 2
        fi
        value=$2
        shift 2
        case $opt in
          --server) BRUME_SERVER=$value ;;
          --mac) BRUME_MAC=$value ;;
          --task) BRUME_TASK=$value ;;
          --token) BRUME_TOKEN=$value ;;
          --disk) BRUME_DISK=$value ;;
          --mode) BRUME_MODE=$value ;;
          --image) BRUME_IMAGE=$value ;;
          --after-file) BRUME_AFTER_FILE=$value ;;
          --work-dir) BRUME_WORK_DIR=$value ;;
          --retry-seconds) BRUME_RETRY_SECONDS=$value ;;
        esac
        ;;
      --debug) BRUME_DEBUG=1; shift ;;
      --self-check) BRUME_SELF_CHECK=1; shift ;;
      --version) printf 'brume-agent %s\n' "$BRUME_AGENT_VERSION"; exit 0 ;;
      -h | --help) settings_usage; exit 0 ;;
      *)
        printf 'brume-agent: unknown option %s (see --help)\n' "$opt" >&2
        return 2
        ;;
    esac
  done
  BRUME_SERVER=${BRUME_SERVER%/}
  [[ $BRUME_RETRY_SECONDS =~ ^[0-9]+$ ]] || { printf 'brume-agent: --retry-seconds must be a number of seconds\n' >&2; return 2; }
  case ${BRUME_DEBUG,,} in 1 | yes | true | on) BRUME_DEBUG=1 ;; *) BRUME_DEBUG=0 ;; esac
  return 0
}

# settings_missing NAME...: says which of these brume.* settings are unset; 2 if any.
settings_missing() {
  local missing=() name var
  for name in "$@"; do
    var=BRUME_${name^^}
    [[ -n ${!var} ]] || missing+=("brume.$name (--$name)")
  done
  ((${#missing[@]} == 0)) && return 0
  printf 'brume-agent: missing settings: %s\n' "${missing[*]}" >&2
  return 2
}

# settings_check_server: what every mode needs (the server and this machine's MAC).
settings_check_server() {
  settings_missing server mac || return 2
  if [[ ! $BRUME_SERVER =~ ^https?://[^/[:space:]]+ ]]; then
    printf 'brume-agent: brume.server must be an http(s) URL, not "%s"\n' "$BRUME_SERVER" >&2
    return 2
  fi
  return 0
}

# settings_check_task: what a task run needs; says what is missing.
settings_check_task() {
  settings_missing server mac task token || return 2
  settings_check_server || return 2
  if [[ ! $BRUME_TASK =~ ^[A-Za-z0-9._-]+$ ]]; then
    printf 'brume-agent: brume.task "%s" is not a task id\n' "$BRUME_TASK" >&2
    return 2
  fi
  if [[ $BRUME_TOKEN == *[[:space:]]* ]]; then
    printf 'brume-agent: brume.token has white space in it\n' >&2
    return 2
  fi
  return 0
}
