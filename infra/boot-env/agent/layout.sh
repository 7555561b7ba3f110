# shellcheck shell=bash disable=SC2034 # globals shared between the modules
# Partition tables: reading an `sfdisk --dump`, and fitting an image's table
# to the disk it is deployed to. For resizable images (type n) the last
# resizable partition takes up the difference: it grows on a bigger disk and
# shrinks on a smaller one, never below the size its filesystem was shrunk
# to at capture (manifest minSizeBytes). Partitions after it move with it.

TBL_HEADER=() TBL_LABEL='' TBL_LAST_LBA='' TBL_SECTOR='' TBL_TABLE_LENGTH=''
P_DEV=() P_NUM=() P_START=() P_SIZE=() P_TYPE=() P_TAIL=()
LAYOUT_NOTE=''

# table_parse FILE: reads an sfdisk dump into TBL_* (header) and P_* (partitions).
table_parse() {
  local file=$1 line key value
  TBL_HEADER=() TBL_LABEL='' TBL_LAST_LBA='' TBL_SECTOR='' TBL_TABLE_LENGTH=''
  P_DEV=() P_NUM=() P_START=() P_SIZE=() P_TYPE=() P_TAIL=()
  while IFS= read -r line || [[ -n $line ]]; do
    line=${line%$'\r'}
    [[ -z ${line//[[:space:]]/} ]] && continue
    if [[ $line =~ ^([^:[:space:]]+)[[:space:]]*:[[:space:]]*(start=.*)$ ]]; then
      local dev=${BASH_REMATCH[1]} rest=${BASH_REMATCH[2]}
      if [[ ! $rest =~ ^start=[[:space:]]*([0-9]+),[[:space:]]*size=[[:space:]]*([0-9]+)(.*)$ ]]; then
        fail_note "partition table: cannot read the line \"$line\""
        return 1
      fi
      local start=${BASH_REMATCH[1]} size=${BASH_REMATCH[2]} tail=${BASH_REMATCH[3]} type=''
      [[ $tail =~ type=[[:space:]]*([^,[:space:]]+) ]] && type=${BASH_REMATCH[1]}
      if [[ ! $dev =~ ([0-9]+)$ ]]; then
        fail_note "partition table: no partition number in \"$dev\""
        return 1
      fi
      P_DEV+=("$dev")
      P_NUM+=("$((10#${BASH_REMATCH[1]}))")
      P_START+=("$((10#$start))")
      P_SIZE+=("$((10#$size))")
      P_TYPE+=("$type")
      P_TAIL+=("$tail")
    elif [[ $line =~ ^([a-z-]+):[[:space:]]*(.*)$ ]]; then
      key=${BASH_REMATCH[1]}
      value=${BASH_REMATCH[2]}
      case $key in
        label) TBL_LABEL=$value ;;
        last-lba) TBL_LAST_LBA=$value ;;
        sector-size) TBL_SECTOR=$value ;;
        table-length) TBL_TABLE_LENGTH=$value ;;
      esac
      TBL_HEADER+=("$line")
    else
      fail_note "partition table: cannot read the line \"$line\""
      return 1
    fi
  done <"$file"
  if [[ $TBL_LABEL != gpt && $TBL_LABEL != dos ]]; then
    fail_note "partition table: label \"$TBL_LABEL\" is not supported (gpt or dos)"
    return 1
  fi
  return 0
}

# part_is_container TYPE: a dos extended partition (holds logical ones, no data).
part_is_container() {
  [[ $TBL_LABEL == dos ]] || return 1
  case ${1,,} in 5 | f | 85 | 0x5 | 0xf | 0x85) return 0 ;; esac
  return 1
}

# part_is_fixed TYPE: partitions that keep their size even when their
# filesystem could be resized: Windows recovery (GPT and dos), so the
# Windows volume before it is the one that grows or shrinks.
part_is_fixed() {
  case ${1^^} in
    DE94BBA4-06D1-4D40-A16A-BFD50179D6AC | 27 | 0X27) return 0 ;;
  esac
  return 1
}

# table_index N: the P_* index of partition number N ("" if none).
table_index() {
  local i
  for i in "${!P_NUM[@]}"; do
    [[ ${P_NUM[i]} == "$1" ]] && { printf '%s' "$i"; return 0; }
  done
  return 1
}

# table_last_usable LABEL SECTORS SECTOR_SIZE: the last sector partitions may use.
table_last_usable() {
  local label=$1 sectors=$2 ss=$3 entries=${TBL_TABLE_LENGTH:-128}
  if [[ $label == gpt ]]; then
    # The backup GPT: its header in the last sector, its entries before it.
    local entry_sectors=$(((entries * 128 + ss - 1) / ss))
    printf '%s' $((sectors - 2 - entry_sectors))
  else
    printf '%s' $((sectors - 1))
  fi
}

# table_write FILE: the parsed table (with P_START/P_SIZE as they are now)
# as an sfdisk script for another disk: without device and last-lba, so
# sfdisk places the backup GPT at the end of the disk it writes to.
table_write() {
  local out=$1 line i
  {
    for line in "${TBL_HEADER[@]}"; do
      [[ $line == device:* || $line == last-lba:* ]] && continue
      printf '%s\n' "$line"
    done
    printf '\n'
    for i in "${!P_NUM[@]}"; do
      printf '%s : start=%12s, size=%12s%s\n' "${P_DEV[i]}" "${P_START[i]}" "${P_SIZE[i]}" "${P_TAIL[i]}"
    done
  } >"$out"
}

# layout_plan_for MANIFEST TABLE TARGET_BYTES TARGET_SECTOR_SIZE OUT [DISK_LABEL]:
# fits the image's table to a disk of TARGET_BYTES; writes the sfdisk script
# to OUT. Fails (fail_note) with needed and available bytes when the image
# cannot fit. LAYOUT_NOTE says what changed.
layout_plan_for() {
  local manifest=$1 table=$2 target_bytes=$3 ss=$4 out=$5 disk_label=${6:-the disk}
  LAYOUT_NOTE=''
  table_parse "$table" || return 1
  ((${#P_NUM[@]})) || { fail_note "the image's partition table has no partitions"; return 1; }
  local src_ss=${TBL_SECTOR:-$(jq -r '.disk.sectorSize // 512' "$manifest")}
  if ((src_ss != ss)); then
    fail_note "the image was taken from a disk with $src_ss-byte sectors; $disk_label has $ss-byte sectors"
    return 1
  fi
  local src_bytes image_type
  src_bytes=$(jq -r '.disk.sizeBytes // 0' "$manifest")
  image_type=$(jq -r '.imageType // "n"' "$manifest")
  local target_sectors=$((target_bytes / ss))
  local target_last src_last
  target_last=$(table_last_usable "$TBL_LABEL" "$target_sectors" "$ss")
  src_last=${TBL_LAST_LBA:-$(table_last_usable "$TBL_LABEL" $((src_bytes / ss)) "$ss")}
  local grain=$((1048576 / ss)) i layout_end=0 end
  ((grain > 0)) || grain=1
  for i in "${!P_NUM[@]}"; do
    end=$((P_START[i] + P_SIZE[i] - 1))
    ((end > layout_end)) && layout_end=$end
  done

  # The partition that takes up the difference: the last resizable one.
  local r=-1 num min_bytes min_sectors
  if [[ $image_type == n ]]; then
    while IFS= read -r num; do
      i=$(table_index "$num") || continue
      if ((r < 0 || P_START[i] > P_START[r])); then r=$i; fi
    done < <(jq -r '.partitions[]? | select(.resizable == true) | .number' "$manifest")
  fi

  local needed_last=$layout_end delta=0
  if ((r >= 0)); then
    min_bytes=$(jq -r --argjson n "${P_NUM[r]}" '.partitions[] | select(.number == $n) | .minSizeBytes // empty' "$manifest")
    if [[ $min_bytes =~ ^[0-9]+$ ]]; then
      min_sectors=$(((min_bytes + ss - 1) / ss))
    else
      min_sectors=${P_SIZE[r]}
    fi
    ((min_sectors > P_SIZE[r])) && min_sectors=${P_SIZE[r]}
    local spare=$(((P_SIZE[r] - min_sectors) / grain * grain))
    needed_last=$((layout_end - spare))
  fi
  local trailer=$((target_sectors - 1 - target_last))
  local needed_bytes=$(((needed_last + 1 + trailer) * ss))
  if ((target_last < needed_last)); then
    fail_note "the image does not fit on $disk_label: it needs at least $needed_bytes bytes ($(human_bytes "$needed_bytes")), $disk_label has $target_bytes bytes ($(human_bytes "$target_bytes"))"
    return 1
  fi

  if ((r >= 0)); then
    local diff=$((target_last - src_last))
    if ((diff >= 0)); then
      delta=$((diff / grain * grain))
    else
      # A smaller disk: free space after the last partition goes first.
      local need=$((-diff - (src_last - layout_end)))
      ((need > 0)) && delta=$((-((need + grain - 1) / grain * grain)))
    fi
    if ((delta != 0)); then
      local r_start=${P_START[r]} r_end=$((P_START[r] + P_SIZE[r] - 1)) old=${P_SIZE[r]}
      for i in "${!P_NUM[@]}"; do
        if ((i == r)); then
          P_SIZE[i]=$((P_SIZE[i] + delta))
        elif ((P_START[i] > r_start)); then
          P_START[i]=$((P_START[i] + delta))
        elif ((P_START[i] < r_start && P_START[i] + P_SIZE[i] - 1 >= r_end)); then
          # A dos extended partition around it grows or shrinks with it.
          P_SIZE[i]=$((P_SIZE[i] + delta))
        fi
      done
      LAYOUT_NOTE="partition ${P_NUM[r]}: $(human_bytes $((old * ss))) -> $(human_bytes $((P_SIZE[r] * ss)))"
    fi
  fi
  table_write "$out"
}

# layout_plan MANIFEST TABLE DISK OUT: layout_plan_for the disk DISK.
layout_plan() {
  local bytes ss
  if ! bytes=$(disk_size_bytes "$3") || ! ss=$(disk_sector_size "$3"); then
    fail_note "cannot read the size of $3 (blockdev)"
    return 1
  fi
  layout_plan_for "$1" "$2" "$bytes" "$ss" "$4" "$3"
}
