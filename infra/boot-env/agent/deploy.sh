# shellcheck shell=bash disable=SC2034 # globals shared between the modules
# Deploy: fit the image's partition table to the disk, write it, then
# stream every partition's file through
#   SOURCE NAME | tee (sha256) | zstd -dc | count | partclone.restore
# where SOURCE is source_server (GET with resume) or any function that
# writes the named file's bytes to stdout. Nothing is stored on the way:
# the image can be bigger than the machine's memory.

# manifest_file_field MANIFEST NAME FIELD: a field of the manifest's files[] entry.
manifest_file_field() {
  jq -r --arg name "$2" --arg field "$3" '[.files[]? | select(.name == $name)][0][$field] // empty' "$1"
}

# partclone_write TOOL DEV LOG [nocheck]: restores the image stream on stdin
# to DEV. "nocheck" (-C) lets a filesystem shrunk at capture go into a
# partition smaller than the one it came from: partclone.ntfs records the
# source partition's size, not the volume's; the layout already checked the
# partition holds the shrunk filesystem.
partclone_write() {
  if [[ $1 == partclone.dd ]]; then
    partclone.dd -q -s - -O "$2" -L "$3"
  elif [[ ${4:-} == nocheck ]]; then
    partclone.restore -q -C -s - -O "$2" -L "$3"
  else
    partclone.restore -q -s - -O "$2" -L "$3"
  fi
}

# _restore_pipe SOURCE NAME SIZE SHA TOOL DEV [nocheck]: the restore pipeline (run by pipeline_run).
_restore_pipe() {
  local source=$1 name=$2 size=$3 sha=$4 tool=$5 dev=$6 check=${7:-} d=$PIPE_DIR reader
  mkfifo "$d/sha.fifo" || { pipeline_status 1; return 1; }
  { count_stage "$d/received" <"$d/sha.fifo" | sha256sum >"$d/sha.out"; } &
  reader=$!
  "$source" "$name" "$size" "$sha" 2>"$d/download.err" |
    tee "$d/sha.fifo" 2>"$d/tee.err" |
    zstd -q -dc 2>"$d/zstd.err" |
    count_stage "$d/count" |
    partclone_write "$tool" "$dev" "$d/restore.log" "$check" 2>"$d/restore.err"
  local codes=("${PIPESTATUS[@]}")
  wait "$reader"
  pipeline_status "${codes[@]}"
}

# verify_received LABEL NAME SIZE SHA: what the last pipeline received
# (its sha fifo reader's count and digest) against the manifest.
verify_received() {
  local got_size got_sha
  got_size=$(count_result "$PIPE_DIR/received") || got_size=''
  got_sha=$(cut -d' ' -f1 "$PIPE_DIR/sha.out" 2>/dev/null)
  if [[ -n $3 && $got_size != "$3" ]]; then
    fail_note "$1: $2: received ${got_size:-?} bytes, the manifest says $3"
    return 1
  fi
  if [[ -n $4 && $got_sha != "${4,,}" ]]; then
    fail_note "$1: $2: sha256 of the received bytes is ${got_sha:-?}, the manifest says $4"
    return 1
  fi
  return 0
}

# restore_partition LABEL DEV TOOL NAME SIZE SHA SOURCE DONE TOTAL [nocheck]:
# one partition. Sets RESTORE_IMAGE_BYTES (the uncompressed stream's size).
RESTORE_IMAGE_BYTES=''
restore_partition() {
  local label=$1 dev=$2 tool=$3 name=$4 size=$5 sha=$6 source=$7 done_before=$8 total=$9 check=${10:-}
  pipeline_new download tee zstd count restore
  PIPE_CMDS=("GET image/files/$name" "tee (sha256)" "zstd -q -dc" "tee (byte count)"
    "$(partclone_write_display "$tool" "$dev" "$check")")
  progress_set "$label" "$done_before" "$total" "$PIPE_DIR/count"
  say "$label: restoring $name to $dev with ${tool/partclone.dd/partclone.dd (raw)}"
  pipeline_run _restore_pipe "$source" "$name" "$size" "$sha" "$tool" "$dev" "$check"
  cancelled && return 3
  pipeline_blame "$label: restore" || return 1
  verify_received "$label" "$name" "$size" "$sha" || return 1
  RESTORE_IMAGE_BYTES=$(count_result "$PIPE_DIR/count") || RESTORE_IMAGE_BYTES=0
  say "$label: $(human_bytes "$RESTORE_IMAGE_BYTES") restored, sha256 verified"
  return 0
}

partclone_write_display() {
  if [[ $1 == partclone.dd ]]; then
    printf 'partclone.dd -q -s - -O %s' "$2"
  else
    printf 'partclone.restore -q%s -s - -O %s' "${3:+ -C}" "$2"
  fi
}

# fetch_small SOURCE NAME SIZE SHA OUT: a small file (the partition table) into OUT, verified.
fetch_small() {
  local source=$1 name=$2 size=$3 sha=$4 out=$5 got
  RUN_STDOUT=$out run "download $name" "$source" "$name" "$size" "$sha" || return 1
  got=$(sha256sum <"$out")
  got=${got%% *}
  if [[ -n $sha && $got != "${sha,,}" ]]; then
    fail_note "$name: sha256 of the received bytes is $got, the manifest says $sha"
    return 1
  fi
  return 0
}

# deploy_fix_ntfs_start MANIFEST INDEX LABEL DEV: an NTFS partition that
# moved (it came after the partition that shrank or grew) gets its boot
# sector's start sector updated, or Windows cannot boot from it.
deploy_fix_ntfs_start() {
  local fs old_start new_start j
  fs=$(jq -r ".partitions[$2].filesystem // empty" "$1")
  [[ $fs == ntfs ]] || return 0
  old_start=$(jq -r ".partitions[$2].startSector // empty" "$1")
  j=$(table_index "$(jq -r ".partitions[$2].number" "$1")") || return 0
  new_start=${P_START[j]}
  [[ -n $old_start && $old_start != "$new_start" ]] || return 0
  command -v partclone.ntfsfixboot >/dev/null || { warn "$3: moved NTFS partition, no partclone.ntfsfixboot to fix its boot sector"; return 0; }
  # Without a geometry ioctl (loop devices, some controllers) say what every disk has pretended for decades.
  run "$3: set the NTFS boot sector's start to $new_start" partclone.ntfsfixboot -w -s "$new_start" "$4" ||
    run "$3: set the NTFS boot sector's start to $new_start" partclone.ntfsfixboot -w -b -h 255 -t 63 -s "$new_start" "$4" ||
    warn "$FAIL_REASON"
  return 0
}

# deploy_disk MANIFEST DISK SOURCE: writes the image described by MANIFEST
# (brume-image/1) to DISK, reading its files through SOURCE.
deploy_disk() {
  local manifest=$1 disk=$2 source=$3 used format table_name
  format=$(jq -r '.format // empty' "$manifest" 2>/dev/null)
  if [[ $format != brume-image/1 ]]; then
    fail_note "the image manifest's format is \"$format\", this agent reads brume-image/1"
    return 1
  fi
  [[ -b $disk ]] || { fail_note "$disk is not a block device"; return 1; }
  if used=$(disk_in_use "$disk"); then
    fail_note "$disk is in use: $used"
    return 1
  fi
  table_name=$(jq -r '.partitionTable // "table.sfdisk"' "$manifest")
  fetch_small "$source" "$table_name" "$(manifest_file_field "$manifest" "$table_name" sizeBytes)" \
    "$(manifest_file_field "$manifest" "$table_name" sha256)" "$WORK/image-table.sfdisk" || return $?
  cancelled && return 3

  layout_plan "$manifest" "$WORK/image-table.sfdisk" "$disk" "$WORK/deploy-table.sfdisk" || return 1
  [[ -n $LAYOUT_NOTE ]] && say "layout: $LAYOUT_NOTE"
  state writing-table "disk=$disk"
  run "write the partition table to $disk" \
    sfdisk --no-reread --no-tell-kernel -q --wipe always "$disk" <"$WORK/deploy-table.sfdisk" || return 1
  disk_reread "$disk"
  local nums=()
  mapfile -t nums < <(jq -r '.partitions[]?.number' "$manifest")
  disk_wait_partitions "$disk" "${nums[@]}" || return 1

  local total done_bytes=0 count i
  total=$(jq '[.partitions[]? | .imageBytes // 0] | add // 0' "$manifest")
  count=$(jq '.partitions | length' "$manifest")
  state deploying "disk=$disk" "partitions=$count" "bytes=$total"
  for ((i = 0; i < count; i++)); do
    local num tool name dev size sha label
    num=$(jq -r ".partitions[$i].number" "$manifest")
    tool=$(jq -r ".partitions[$i].tool // \"partclone.dd\"" "$manifest")
    name=$(jq -r ".partitions[$i].file" "$manifest")
    label=part$num
    case $tool in
      partclone.dd | partclone.[a-z]*[a-z0-9+]) ;;
      *) fail_note "$label: unknown tool \"$tool\" in the manifest"; return 1 ;;
    esac
    dev=$(disk_part_dev "$disk" "$num") || { fail_note "$label: no device node for partition $num of $disk"; return 1; }
    size=$(manifest_file_field "$manifest" "$name" sizeBytes)
    sha=$(manifest_file_field "$manifest" "$name" sha256)
    # Shrunk at capture: the layout made sure the partition holds minSizeBytes.
    local check='' min
    min=$(jq -r ".partitions[$i] | select(.resizable == true) | .minSizeBytes // empty" "$manifest")
    [[ -n $min && $tool != partclone.dd ]] && check=nocheck
    # Old signatures elsewhere in the partition would confuse blkid later.
    command -v wipefs >/dev/null && wipefs -a -q "$dev" >/dev/null 2>&1
    restore_partition "$label" "$dev" "$tool" "$name" "$size" "$sha" "$source" "$done_bytes" "$total" "$check" || return $?
    done_bytes=$((done_bytes + RESTORE_IMAGE_BYTES))
    ((total < done_bytes)) && total=$done_bytes
    deploy_fix_ntfs_start "$manifest" "$i" "$label" "$dev"
  done
  progress_clear

  # Filesystems shrunk at capture, and the partition that grew, fill their partitions.
  local fs
  while IFS=$'\t' read -r num fs; do
    [[ -n $num ]] || continue
    cancelled && return 3
    dev=$(disk_part_dev "$disk" "$num") || continue
    [[ -n $fs && $fs != null && $fs != raw ]] || fs=$(fs_type "$dev")
    fs_resizable "$fs" || continue
    say "part$num: growing the $fs filesystem to fill $dev"
    fs_grow "part$num" "$dev" "$fs" || return 1
  done < <(jq -r '.partitions[]? | select(.resizable == true) | [.number, (.filesystem // "")] | @tsv' "$manifest")
  state deployed "disk=$disk" "bytes=$done_bytes"
}

# source_dir NAME: a source that reads $IMAGE_DIR/NAME (offline deploys, tests).
source_dir() { cat "$IMAGE_DIR/$1"; }
