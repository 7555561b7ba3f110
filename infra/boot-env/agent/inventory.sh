# shellcheck shell=bash
# The hardware inventory (core/hosts/report-inventory.ts field names), from
# dmidecode, /proc and sysfs. Whatever cannot be read (no DMI tables in a
# VM or a container) is null: a missing field never fails a task.

# dmi KEYWORD: one dmidecode -s value, trimmed ("" when there is none).
dmi() {
  local value
  value=$(dmidecode -s "$1" 2>/dev/null | grep -v '^#' | head -n 1)
  value=${value#"${value%%[![:space:]]*}"}
  value=${value%"${value##*[![:space:]]}"}
  printf '%s' "${value:0:200}"
}

# dmi_field TYPE FIELD: a "Field: value" line of dmidecode -t TYPE (first one).
dmi_field() {
  local line value=''
  while IFS= read -r line; do
    line=${line#"${line%%[![:space:]]*}"}
    if [[ $line == "$2:"* ]]; then
      value=${line#*:}
      value=${value# }
      break
    fi
  done < <(dmidecode -t "$1" 2>/dev/null)
  printf '%s' "${value:0:200}"
}

# cpuinfo FIELD: the first value of a /proc/cpuinfo field.
cpuinfo() {
  local line
  while IFS= read -r line; do
    if [[ $line =~ ^$1[[:space:]]*:[[:space:]]*(.*)$ ]]; then
      printf '%s' "${BASH_REMATCH[1]:0:200}"
      return
    fi
  done </proc/cpuinfo 2>/dev/null
}

# inventory_disks: "vda 64.4 GB" for every whole disk (no loop, RAM or CD).
inventory_disks() {
  local dir name sectors
  for dir in /sys/block/*; do
    name=${dir##*/}
    case $name in loop* | ram* | zram* | sr* | fd* | dm-* | md* | nbd* | *boot[0-9] | *rpmb) continue ;; esac
    sectors=$(cat "$dir/size" 2>/dev/null) || continue
    ((sectors > 0)) || continue
    printf '%s %s\n' "$name" "$(human_bytes $((sectors * 512)))"
  done
}

# inventory_gpus: display controllers, by name when lspci is there, else by PCI id.
inventory_gpus() {
  if command -v lspci >/dev/null 2>&1; then
    local line re='^[^ ]+ "([^"]*)" "([^"]*)" "([^"]*)"'
    while IFS= read -r line; do
      # slot "class" "vendor" "device" ...
      [[ $line =~ $re ]] || continue
      [[ ${BASH_REMATCH[1]} == *VGA* || ${BASH_REMATCH[1]} == *3D* || ${BASH_REMATCH[1]} == *Display* ]] &&
        printf '%s %s\n' "${BASH_REMATCH[2]}" "${BASH_REMATCH[3]}"
    done < <(lspci -mm 2>/dev/null)
    return
  fi
  local dev class
  for dev in /sys/bus/pci/devices/*; do
    class=$(cat "$dev/class" 2>/dev/null) || continue
    [[ $class == 0x03* ]] || continue
    printf '%s:%s\n' "$(sed 's/^0x//' "$dev/vendor")" "$(sed 's/^0x//' "$dev/device")"
  done
}

# inventory_collect OUT: the inventory as a JSON object in OUT.
inventory_collect() {
  local out=$1 mem_kb='' line memory=''
  while IFS= read -r line; do
    [[ $line =~ ^MemTotal:[[:space:]]+([0-9]+) ]] && mem_kb=${BASH_REMATCH[1]}
  done </proc/meminfo 2>/dev/null
  [[ -n $mem_kb ]] && memory=$(human_bytes $((mem_kb * 1024)))
  local cpu_manufacturer cpu_version cpu_current cpu_max
  cpu_manufacturer=$(dmi processor-manufacturer)
  [[ -n $cpu_manufacturer ]] || cpu_manufacturer=$(cpuinfo vendor_id)
  cpu_version=$(dmi processor-version)
  [[ -n $cpu_version ]] || cpu_version=$(cpuinfo 'model name')
  cpu_current=$(dmi processor-frequency)
  if [[ -z $cpu_current ]]; then
    cpu_current=$(cpuinfo 'cpu MHz')
    [[ -n $cpu_current ]] && cpu_current="${cpu_current%%.*} MHz"
  fi
  cpu_max=$(dmi_field processor 'Max Speed')
  local disks gpus
  disks=$(inventory_disks | jq -R . | jq -sc .)
  gpus=$(inventory_gpus | jq -R . | jq -sc .)
  jq -n \
    --arg sysManufacturer "$(dmi system-manufacturer)" \
    --arg sysProduct "$(dmi system-product-name)" \
    --arg sysVersion "$(dmi system-version)" \
    --arg sysSerial "$(dmi system-serial-number)" \
    --arg sysUuid "$(dmi system-uuid)" \
    --arg sysType "$(dmi chassis-type)" \
    --arg biosVendor "$(dmi bios-vendor)" \
    --arg biosVersion "$(dmi bios-version)" \
    --arg biosDate "$(dmi bios-release-date)" \
    --arg mbManufacturer "$(dmi baseboard-manufacturer)" \
    --arg mbProduct "$(dmi baseboard-product-name)" \
    --arg mbVersion "$(dmi baseboard-version)" \
    --arg mbSerial "$(dmi baseboard-serial-number)" \
    --arg mbAsset "$(dmi baseboard-asset-tag)" \
    --arg cpuManufacturer "$cpu_manufacturer" \
    --arg cpuVersion "$cpu_version" \
    --arg cpuCurrentSpeed "$cpu_current" \
    --arg cpuMaxSpeed "$cpu_max" \
    --arg memory "$memory" \
    --arg caseManufacturer "$(dmi chassis-manufacturer)" \
    --arg caseVersion "$(dmi chassis-version)" \
    --arg caseSerial "$(dmi chassis-serial-number)" \
    --arg caseAsset "$(dmi chassis-asset-tag)" \
    --argjson disks "${disks:-[]}" \
    --argjson gpus "${gpus:-[]}" \
    '$ARGS.named | with_entries(if .value == "" then .value = null else . end)' >"$out"
}

# inventory_report: collects and POSTs /inventory; 1 (with fail_note) if the server refused it.
inventory_report() {
  local file=$WORK/inventory.json
  if ! inventory_collect "$file"; then
    fail_note "could not put the inventory together (jq)"
    return 1
  fi
  state inventory "system=\"$(jq -r '[.sysManufacturer, .sysProduct] | map(. // "?") | join(" ")' "$file")\""
  if ! post_inventory "$file"; then
    fail_note "inventory: $API_ERROR"
    return 1
  fi
  return 0
}
