# shellcheck shell=bash
# Boot-environment tasks that work on the disk without an image:
# fast-wipe and test-disk.

# fast_wipe DISK: zeroes the first 40 MB (partition tables, boot code,
# filesystem headers) and the last MiB (the backup GPT, so nothing
# "recovers" the old table).
fast_wipe() {
  local disk=$1 used bytes mib
  [[ -b $disk ]] || { fail_note "$disk is not a block device"; return 1; }
  if used=$(disk_in_use "$disk"); then
    fail_note "$disk is in use: $used"
    return 1
  fi
  bytes=$(disk_size_bytes "$disk") || { fail_note "cannot read the size of $disk (blockdev)"; return 1; }
  mib=$((bytes / 1048576))
  ((mib > 40)) && mib=40
  state wiping "disk=$disk" "bytes=$((mib * 1048576))"
  run "zero the first $mib MiB of $disk" dd if=/dev/zero of="$disk" bs=1M count="$mib" conv=fsync status=none || return 1
  if ((bytes > 41 * 1048576)); then
    run "zero the last MiB of $disk" dd if=/dev/zero of="$disk" bs=512 count=2048 \
      seek=$((bytes / 512 - 2048)) conv=fsync status=none || return 1
  fi
  disk_reread "$disk"
  state wiped "disk=$disk"
}

# check_filesystem LABEL DEV FSTYPE LOG: a read-only check; 0 clean, 1
# problems found, 2 no checker for this filesystem.
check_filesystem() {
  local dev=$2 fs=$3 log=$4 rc
  case $fs in
    ext2 | ext3 | ext4) e2fsck -fn "$dev" >"$log" 2>&1 ;;
    vfat | msdos)
      command -v fsck.vfat >/dev/null || return 2
      fsck.vfat -n "$dev" >"$log" 2>&1
      ;;
    ntfs)
      command -v ntfsfix >/dev/null || return 2
      ntfsfix --no-action "$dev" >"$log" 2>&1
      ;;
    xfs)
      command -v xfs_repair >/dev/null || return 2
      xfs_repair -n "$dev" >"$log" 2>&1
      ;;
    btrfs)
      command -v btrfs >/dev/null || return 2
      btrfs check --readonly "$dev" >"$log" 2>&1
      ;;
    *) return 2 ;;
  esac
  rc=$?
  ((rc == 0)) && return 0
  printf 'exit %s\n' "$rc" >>"$log"
  return 1
}

# test_disk DISK: checks every partition's filesystem without changing it;
# fails naming the partitions with problems.
test_disk() {
  local disk=$1 used
  [[ -b $disk ]] || { fail_note "$disk is not a block device"; return 1; }
  if used=$(disk_in_use "$disk"); then
    fail_note "$disk is in use: $used"
    return 1
  fi
  RUN_STDOUT=$WORK/test-table.sfdisk run "read the partition table of $disk" sfdisk --dump "$disk" || return 1
  table_parse "$WORK/test-table.sfdisk" || return 1
  disk_reread "$disk"
  local i num dev fs log problems=() logs=() checked=0
  state testing "disk=$disk" "partitions=${#P_NUM[@]}"
  for i in "${!P_NUM[@]}"; do
    num=${P_NUM[i]}
    part_is_container "${P_TYPE[i]}" && continue
    disk_wait_partitions "$disk" "$num" || return 1
    dev=$(disk_part_dev "$disk" "$num")
    fs=$(fs_type "$dev")
    work_log "check-part$num"
    log=$WORK_LOG
    check_filesystem "part$num" "$dev" "$fs" "$log"
    case $? in
      0) say "part$num: $fs on $dev is clean"; checked=$((checked + 1)) ;;
      1) say "part$num: $fs on $dev has problems"; problems+=("part$num ($fs)"); logs+=("$log"); checked=$((checked + 1)) ;;
      2) say "part$num: no check for ${fs:-unknown contents} on $dev" ;;
    esac
  done
  if ((${#problems[@]})); then
    fail_set "test-disk: problems on ${problems[*]}" "" "${logs[@]}"
    return 1
  fi
  state tested "disk=$disk" "checked=$checked"
}
