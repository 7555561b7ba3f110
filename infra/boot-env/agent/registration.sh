# shellcheck shell=bash
# The boot menu's entries that run without a task (so without a token):
# quick registration (the server names the machine pc-<mac>), full
# registration (asks for a name on the console), and inventory of a
# registered machine. POST /register or /inventory with the MAC and the
# inventory; the machine then reboots.

# registration_init: the base URL and a header file with only the MAC.
registration_init() {
  PROTO_BASE="$BRUME_SERVER/api/client/v1"
  PROTO_HEADERS=$WORK/mac.headers
  printf 'X-Brume-Mac: %s\n' "$BRUME_MAC" >"$PROTO_HEADERS"
}

# registration_name: the name typed on the console for full registration; empty keeps pc-<mac>.
registration_name() {
  local name=''
  if [[ $BRUME_MODE == register && -t 0 ]]; then
    printf 'brume-agent: name for this machine (letters, digits, "-"; empty: pc-%s): ' "${BRUME_MAC//:/}" >&"${CONSOLE_FD:-1}"
    read -r -t 300 name || name=''
  fi
  printf '%s' "$name"
}

# registration_run: registers or reports this machine; 0 done, 1 refused (said why).
registration_run() {
  local inventory=$WORK/inventory.json name body
  inventory_collect "$inventory" || { say "could not put the inventory together"; return 1; }
  state inventory "system=\"$(jq -r '[.sysManufacturer, .sysProduct] | map(. // "?") | join(" ")' "$inventory")\""
  if [[ $BRUME_MODE == inventory ]]; then
    body=$(jq -c --arg mac "$BRUME_MAC" '{ mac: $mac, inventory: . }' "$inventory")
    if ! api_call POST /inventory "$body"; then
      say "inventory refused: $API_ERROR"
      return 1
    fi
    state inventoried "host=$(jq -r '.name' <<<"$API_BODY")"
    return 0
  fi
  while :; do
    name=$(registration_name)
    body=$(jq -c --arg mac "$BRUME_MAC" --arg name "$name" '{ mac: $mac, inventory: . } + (if $name == "" then {} else { name: $name } end)' "$inventory")
    if api_call POST /register "$body"; then
      state registered "host=$(jq -r '.name' <<<"$API_BODY")"
      return 0
    fi
    say "registration refused: $API_ERROR"
    # A name the server refused can be typed again; anything else is final.
    [[ $BRUME_MODE == register && -t 0 && $API_STATUS == 4?? && $API_STATUS != 403 && $API_STATUS != 429 ]] || return 1
  done
}

# menu_deploy_prepare: the menu's "deploy an image": an operator signs in on
# the console (or BRUME_USERNAME/BRUME_PASSWORD when there is none), the
# agent creates a deploy task of brume.image for this host with the
# operator's rights, and takes its token from this machine's boot script,
# as a PXE boot would. Sets BRUME_TASK and BRUME_TOKEN; 1 (said why) if not.
menu_deploy_prepare() {
  local dir jar user=${BRUME_USERNAME:-} password=${BRUME_PASSWORD:-} host_id task_id body status
  [[ -n $BRUME_IMAGE ]] || { say "deploy-image needs brume.image"; return 1; }
  dir=$(mktemp -d) || return 1
  jar=$dir/cookies
  if [[ -t 0 ]]; then
    read -r -p 'brume-agent: deploy an image: operator user name: ' user
    read -r -s -p 'brume-agent: password: ' password
    printf '\n'
  fi
  body=$(jq -nc --arg u "$user" --arg p "$password" '{ username: $u, password: $p }')
  status=$(curl -sS -o "$dir/login" -w '%{http_code}' -c "$jar" -H 'Content-Type: application/json' --data-binary @- \
    "$BRUME_SERVER/api/auth/login" <<<"$body")
  password=''
  if [[ $status != 200 ]]; then
    say "sign-in refused (HTTP $status): $(jq -r '.message // empty' "$dir/login" 2>/dev/null)"
    rm -rf "$dir"
    return 1
  fi
  host_id=$(curl -sS -b "$jar" "$BRUME_SERVER/api/hosts?q=$BRUME_MAC" | jq -r --arg mac "$BRUME_MAC" '[.items[] | select(.macs[]?.mac == $mac)][0].id // empty')
  if [[ -z $host_id ]]; then
    say "this machine ($BRUME_MAC) is not registered: register it first"
    rm -rf "$dir"
    return 1
  fi
  body=$(jq -nc --arg h "$host_id" --arg i "$BRUME_IMAGE" '{ type: "deploy", hostId: $h, imageId: $i, options: { afterTask: "reboot" } }')
  status=$(curl -sS -o "$dir/task" -w '%{http_code}' -b "$jar" -H 'Content-Type: application/json' --data-binary @- \
    "$BRUME_SERVER/api/tasks" <<<"$body")
  task_id=$(jq -r '.id // empty' "$dir/task" 2>/dev/null)
  curl -sS -o /dev/null -b "$jar" -X POST "$BRUME_SERVER/api/auth/logout" || true
  if [[ $status != 201 || -z $task_id ]]; then
    say "the deploy task was refused (HTTP $status): $(jq -r '.message // empty' "$dir/task" 2>/dev/null)"
    rm -rf "$dir"
    return 1
  fi
  BRUME_TOKEN=$(curl -sS "$BRUME_SERVER/boot/ipxe?mac=$BRUME_MAC" | grep -o 'brume\.token=[^ ]*' | head -n 1)
  BRUME_TOKEN=${BRUME_TOKEN#brume.token=}
  rm -rf "$dir"
  [[ -n $BRUME_TOKEN ]] || { say "no token for task $task_id in this machine's boot script"; return 1; }
  BRUME_TASK=$task_id
  BRUME_MODE=task
  state task-created "task=$task_id image=$BRUME_IMAGE"
  return 0
}
