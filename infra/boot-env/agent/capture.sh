# shellcheck shell=bash disable=SC2034 # globals shared between the modules
# Capture: the disk's partition table and every partition, through
#   partclone.<fs> -c | count | zstd | tee (sha256) | SINK NAME
# where SINK is sink_upload (PUT to the server) or any function that reads
# the file's bytes on stdin. For image type n, ext filesystems are shrunk to
# their minimum first (manifest minSizeBytes) and grown back afterwards so
# the source disk is left as it was.

CAPTURE_IMAGE_BYTES='' CAPTURE_FILE_BYTES='' CAPTURE_SHA256=''

# zstd_level_args LEVEL: the image's compression (0-22) as zstd options in ZSTD_ARGS.
zstd_level_args() {
  local level=${1:-6}
  [[ $level =~ ^[0-9]+$ ]] || level=6
  ZSTD_ARGS=(-q -T0)
  if ((level >= 20)); then
    ZSTD_ARGS+=(--ultra "-$((level > 22 ? 22 : level))")
  elif ((level == 0)); then
    # 0: the fastest (the images' setting follows FOG, where 0 meant no compression).
    ZSTD_ARGS+=(-1)
  else
    ZSTD_ARGS+=("-$level")
  fi
}

# partclone_read TOOL DEV LOG: the partition's image stream on stdout.
partclone_read() {
  if [[ $1 == partclone.dd ]]; then
    partclone.dd -q -s "$2" -o - -L "$3"
  else
    "$1" -q -c -s "$2" -o - -L "$3"
  fi
}

# _capture_pipe DEV TOOL SINK NAME: the capture pipeline (run by pipeline_run).
_capture_pipe() {
  local dev=$1 tool=$2 sink=$3 name=$4 d=$PIPE_DIR reader
  mkfifo "$d/sha.fifo" || { pipeline_status 1; return 1; }
  { count_stage "$d/sent" <"$d/sha.fifo" | sha256sum >"$d/sha.out"; } &
  reader=$!
  partclone_read "$tool" "$dev" "$d/partclone.log" 2>"$d/partclone.err" |
    count_stage "$d/count" |
    zstd "${ZSTD_ARGS[@]}" -c 2>"$d/zstd.err" |
    tee "$d/sha.fifo" 2>"$d/tee.err" |
    "$sink" "$name" 2>"$d/upload.err"
  local codes=("${PIPESTATUS[@]}")
  wait "$reader"
  pipeline_status "${codes[@]}"
}

# _send_pipe FILE SINK NAME: a small file, as it is, to the sink.
_send_pipe() {
  # shellcheck disable=SC2002 # cat is a stage of its own, with its own exit code
  cat "$1" 2>"$PIPE_DIR/cat.err" | "$2" "$3" 2>"$PIPE_DIR/upload.err"
  pipeline_status "${PIPESTATUS[@]}"
}

# capture_check_answer NAME SIZE SHA: compares what the sink's server says
# it received ($PIPE_DIR/sink.json, when there is one) with what was sent.
capture_check_answer() {
  local answer=$PIPE_DIR/sink.json got_size got_sha
  [[ -s $answer ]] || return 0
  got_size=$(jq -r '.sizeBytes // empty' "$answer" 2>/dev/null)
  got_sha=$(jq -r '.sha256 // empty' "$answer" 2>/dev/null)
  if [[ -n $got_size && $got_size != "$2" ]] || [[ -n $got_sha && ${got_sha,,} != "$3" ]]; then
    fail_note "$1: the server received $got_size bytes (sha256 $got_sha) but the agent sent $2 bytes (sha256 $3)"
    : >"$PIPE_DIR/sink.retry"
    return 1
  fi
  return 0
}

# capture_file SINK NAME FILE: sends a small file (the partition table).
capture_file() {
  local sink=$1 name=$2 file=$3 size sha attempt_started=$SECONDS
  if ! size=$(stat -c %s "$file") || ! sha=$(sha256sum <"$file"); then
    fail_note "cannot read $file"
    return 1
  fi
  sha=${sha%% *}
  while :; do
    pipeline_new cat upload
    PIPE_CMDS=("cat $file" "PUT capture/files/$name")
    pipeline_run _send_pipe "$file" "$sink" "$name"
    cancelled && return 3
    pipeline_blame "send $name" && capture_check_answer "$name" "$size" "$sha" && break
    capture_retry_wait "$name" "$attempt_started" || return 1
  done
  jq -nc --arg name "$name" --argjson size "$size" --arg sha "$sha" \
    '{name: $name, sizeBytes: $size, sha256: $sha}' >>"$WORK/files.jsonl" ||
    fail_note "cannot record $name in the manifest (jq)"
}

# capture_retry_wait NAME SINCE: after an upload failure: whether to try again
# (the sink asked for it and BRUME_RETRY_SECONDS have not passed since SINCE).
capture_retry_wait() {
  [[ -f $PIPE_DIR/sink.retry ]] || return 1
  ((SECONDS - $2 < ${BRUME_RETRY_SECONDS:-300})) || return 1
  say "upload of $1 failed ($FAIL_REASON); sending it again in 5s"
  sleep 5
  return 0
}

# capture_partition LABEL DEV TOOL SINK NAME DONE TOTAL: one partition's image
# to SINK as NAME. Sets CAPTURE_IMAGE_BYTES, CAPTURE_FILE_BYTES, CAPTURE_SHA256.
capture_partition() {
  local label=$1 dev=$2 tool=$3 sink=$4 name=$5 done_before=$6 total=$7 started=$SECONDS
  while :; do
    pipeline_new partclone count zstd tee upload
    PIPE_CMDS=("$(partclone_display "$tool" "$dev")" "tee (byte count)" "zstd ${ZSTD_ARGS[*]} -c"
      "tee (sha256)" "PUT capture/files/$name")
    progress_set "$label" "$done_before" "$total" "$PIPE_DIR/count"
    say "$label: capturing $dev with $tool"
    pipeline_run _capture_pipe "$dev" "$tool" "$sink" "$name"
    cancelled && return 3
    if pipeline_blame "$label: capture"; then
      CAPTURE_IMAGE_BYTES=$(count_result "$PIPE_DIR/count")
      CAPTURE_FILE_BYTES=$(count_result "$PIPE_DIR/sent")
      CAPTURE_SHA256=$(cut -d' ' -f1 "$PIPE_DIR/sha.out" 2>/dev/null)
      if [[ -z $CAPTURE_IMAGE_BYTES || -z $CAPTURE_FILE_BYTES || ${#CAPTURE_SHA256} != 64 ]]; then
        fail_note "$label: the byte counts or the sha256 of the capture are missing"
        return 1
      fi
      capture_check_answer "$name" "$CAPTURE_FILE_BYTES" "$CAPTURE_SHA256" && break
    fi
    capture_retry_wait "$name" "$started" || return 1
  done
  say "$label: $(human_bytes "$CAPTURE_IMAGE_BYTES") imaged, $(human_bytes "$CAPTURE_FILE_BYTES") compressed"
  return 0
}

partclone_display() {
  if [[ $1 == partclone.dd ]]; then
    printf 'partclone.dd -q -s %s -o -' "$2"
  else
    printf '%s -q -c -s %s -o -' "$1" "$2"
  fi
}

# capture_estimate DEV FSTYPE: bytes the image stream will roughly have (progress totals).
capture_estimate() {
  local line count='' free='' size=''
  if [[ $2 == ext2 || $2 == ext3 || $2 == ext4 ]]; then
    while IFS= read -r line; do
      [[ $line =~ ^Block\ count:\ +([0-9]+) ]] && count=${BASH_REMATCH[1]}
      [[ $line =~ ^Free\ blocks:\ +([0-9]+) ]] && free=${BASH_REMATCH[1]}
      [[ $line =~ ^Block\ size:\ +([0-9]+) ]] && size=${BASH_REMATCH[1]}
    done < <(dumpe2fs -h "$1" 2>/dev/null)
    if [[ -n $count && -n $free && -n $size ]]; then
      printf '%s' $(((count - free) * size))
      return
    fi
  fi
  blockdev --getsize64 "$1" 2>/dev/null || printf 0
}

# capture_disk DISK IMAGE_TYPE COMPRESSION SINK MANIFEST_OUT: captures the
# disk; writes the manifest (brume-image/1) to MANIFEST_OUT.
capture_disk() {
  local disk=$1 image_type=$2 level=$3 sink=$4 manifest=$5 used
  case $image_type in
    n | mps | dd) ;;
    mpa) fail_note "image type mpa (all disks) is not supported by this agent yet"; return 1 ;;
    *) fail_note "unknown image type \"$image_type\""; return 1 ;;
  esac
  [[ -b $disk ]] || { fail_note "$disk is not a block device"; return 1; }
  if used=$(disk_in_use "$disk"); then
    fail_note "$disk is in use: $used"
    return 1
  fi
  zstd_level_args "$level"
  RUN_STDOUT=$WORK/table.sfdisk run "read the partition table of $disk" sfdisk --dump "$disk" || return 1
  table_parse "$WORK/table.sfdisk" || return 1
  ((${#P_NUM[@]})) || { fail_note "$disk has no partitions to capture"; return 1; }
  local disk_bytes ss
  if ! disk_bytes=$(disk_size_bytes "$disk") || ! ss=$(disk_sector_size "$disk"); then
    fail_note "cannot read the size of $disk (blockdev)"
    return 1
  fi
  : >"$WORK/files.jsonl"
  : >"$WORK/parts.jsonl"
  state capturing "disk=$disk" "partitions=${#P_NUM[@]}"
  capture_file "$sink" table.sfdisk "$WORK/table.sfdisk" || return $?

  # Device nodes, filesystems and tools first: progress needs the total.
  disk_reread "$disk"
  local nums=() i
  for i in "${!P_NUM[@]}"; do part_is_container "${P_TYPE[i]}" || nums+=("${P_NUM[i]}"); done
  disk_wait_partitions "$disk" "${nums[@]}" || return 1
  local -A dev_of=() fs_of=() tool_of=()
  local total=0 num
  for num in "${nums[@]}"; do
    dev_of[$num]=$(disk_part_dev "$disk" "$num")
    fs_of[$num]=$(fs_type "${dev_of[$num]}")
    tool_of[$num]=$(fs_tool "${fs_of[$num]}")
    [[ $image_type == dd ]] && tool_of[$num]=partclone.dd
    total=$((total + $(capture_estimate "${dev_of[$num]}" "${fs_of[$num]}")))
  done

  local done_bytes=0 rc
  for num in "${nums[@]}"; do
    local label=part$num dev=${dev_of[$num]} fs=${fs_of[$num]} tool=${tool_of[$num]}
    local resizable=false min=null shrunk=0
    i=$(table_index "$num")
    if [[ $image_type == n ]] && fs_resizable "$fs" && ! part_is_fixed "${P_TYPE[i]}"; then resizable=true; fi
    if [[ $resizable == true ]] && fs_shrinkable "$fs"; then
      say "$label: shrinking the $fs filesystem on $dev for the capture"
      cleanup_push fs_grow "$label" "$dev" "$fs"
      shrunk=1
      if ! fs_shrink "$label" "$dev" "$fs"; then
        capture_grow_back "$label" "$dev" "$fs"
        return 1
      fi
      if [[ -n $FS_BYTES ]]; then
        min=$FS_BYTES
      else
        cleanup_pop
        shrunk=0
      fi
    fi
    capture_partition "$label" "$dev" "$tool" "$sink" "$label.img.zst" "$done_bytes" "$total"
    rc=$?
    if ((shrunk)); then
      capture_grow_back "$label" "$dev" "$fs" || ((rc)) || rc=1
    fi
    ((rc == 0)) || return "$rc"
    done_bytes=$((done_bytes + CAPTURE_IMAGE_BYTES))
    ((total < done_bytes)) && total=$done_bytes
    if ! jq -nc --argjson number "$num" --arg device "p$num" --argjson start "${P_START[i]}" \
      --argjson size "${P_SIZE[i]}" --arg fs "$fs" --arg tool "$tool" --arg file "$label.img.zst" \
      --argjson imageBytes "$CAPTURE_IMAGE_BYTES" --argjson min "$min" --argjson resizable "$resizable" \
      '{number: $number, device: $device, startSector: $start, sizeSectors: $size,
        filesystem: (if $fs == "" then "raw" else $fs end), tool: $tool, file: $file,
        imageBytes: $imageBytes, minSizeBytes: $min, resizable: $resizable}' >>"$WORK/parts.jsonl" ||
      ! jq -nc --arg name "$label.img.zst" --argjson size "$CAPTURE_FILE_BYTES" --arg sha "$CAPTURE_SHA256" \
        '{name: $name, sizeBytes: $size, sha256: $sha}' >>"$WORK/files.jsonl"; then
      fail_note "$label: cannot record the partition in the manifest (jq)"
      return 1
    fi
  done
  progress_clear
  if ! jq -n --arg type "$image_type" --argjson bytes "$disk_bytes" --argjson ss "$ss" --arg tablelabel "$TBL_LABEL" \
    --slurpfile parts "$WORK/parts.jsonl" --slurpfile files "$WORK/files.jsonl" \
    '{format: "brume-image/1", imageType: $type,
      disk: {sizeBytes: $bytes, sectorSize: $ss, label: $tablelabel},
      partitionTable: "table.sfdisk", partitions: $parts, files: $files}' >"$manifest"; then
    fail_note "cannot write the manifest (jq)"
    return 1
  fi
  state captured "partitions=${#nums[@]}" "bytes=$done_bytes"
}

# capture_grow_back LABEL DEV FS: grows a filesystem shrunk for the capture
# back to its partition; keeps an earlier failure's report if there was one.
capture_grow_back() {
  local reason=$FAIL_REASON command=$FAIL_COMMAND output=$FAIL_OUTPUT
  cleanup_pop
  say "$1: growing the filesystem on $2 back to its partition"
  if fs_grow "$1" "$2" "$3"; then
    FAIL_REASON=$reason FAIL_COMMAND=$command FAIL_OUTPUT=$output
    return 0
  fi
  [[ -n $reason ]] && { FAIL_REASON="$reason; then $FAIL_REASON"; }
  return 1
}

# sink_dir NAME: a sink that writes the file into $IMAGE_DIR (offline
# captures and the tests); the manifest records the same sizes and digests.
sink_dir() { cat >"$IMAGE_DIR/$1"; }
