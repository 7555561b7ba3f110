# shellcheck shell=bash disable=SC2034 # globals shared between the modules
# Disks, partitions and filesystems: which disk, which device node is
# partition N, what is on it, and shrinking/growing filesystems.

# disk_default: the first whole disk that is not removable, a loop, a RAM
# disk or a CD; disks on USB only when there is nothing else.
disk_default() {
  local dir name usb=''
  for dir in /sys/block/*; do
    name=${dir##*/}
    case $name in
      loop* | ram* | zram* | sr* | fd* | dm-* | md* | nbd* | mtdblock* | *boot[0-9] | *rpmb) continue ;;
    esac
    [[ $(cat "$dir/removable" 2>/dev/null) == 0 ]] || continue
    [[ $(cat "$dir/ro" 2>/dev/null) == 1 ]] && continue
    (($(cat "$dir/size" 2>/dev/null || echo 0) > 0)) || continue
    if [[ $(readlink -f "$dir") == */usb* ]]; then
      [[ -n $usb ]] || usb=/dev/$name
      continue
    fi
    printf '/dev/%s' "$name"
    return 0
  done
  [[ -n $usb ]] && { printf '%s' "$usb"; return 0; }
  return 1
}

# disk_name DEV: the kernel's name of a disk (/dev/disk/by-id/... -> sda).
disk_name() {
  local real
  real=$(readlink -f "$1")
  printf '%s' "${real##*/}"
}

disk_size_bytes() { blockdev --getsize64 "$1"; }
disk_sector_size() { blockdev --getss "$1"; }

# disk_part_dev DISK N: the device node of partition N ("" and 1 if none).
# Creates the node from sysfs when nothing else did (no udev, no devtmpfs).
disk_part_dev() {
  local name part
  name=$(disk_name "$1")
  for part in "/sys/class/block/$name/$name"*; do
    [[ -f $part/partition && $(<"$part/partition") == "$2" ]] || continue
    local node=/dev/${part##*/}
    if [[ ! -b $node ]]; then
      local majmin
      majmin=$(<"$part/dev")
      mknod "$node" b "${majmin%%:*}" "${majmin##*:}" 2>/dev/null
    fi
    [[ -b $node ]] || return 1
    printf '%s' "$node"
    return 0
  done
  return 1
}

# disk_part_numbers DISK: the partition numbers the kernel knows, one a line.
disk_part_numbers() {
  local name part
  name=$(disk_name "$1")
  for part in "/sys/class/block/$name/$name"*; do
    [[ -f $part/partition ]] && cat "$part/partition"
  done
}

# disk_reread DISK: makes the kernel's partitions match the table on disk.
disk_reread() {
  blockdev --rereadpt "$1" >/dev/null 2>&1
  # Some kernels and loop devices ignore BLKRRPART; partx tells the kernel partition by partition.
  partx -u "$1" >/dev/null 2>&1 || partx -a "$1" >/dev/null 2>&1
  command -v udevadm >/dev/null && udevadm settle --timeout=10 >/dev/null 2>&1
  return 0
}

# disk_wait_partitions DISK N...: waits (up to 20 s) for partitions' nodes.
disk_wait_partitions() {
  local disk=$1 n tries=0 missing
  shift
  while :; do
    missing=''
    for n in "$@"; do disk_part_dev "$disk" "$n" >/dev/null || missing+=" $n"; done
    [[ -z $missing ]] && return 0
    if ((tries >= 80)); then
      fail_note "the kernel shows no device for partition(s)$missing of $disk after writing the table"
      return 1
    fi
    ((tries % 8 == 7)) && partx -a "$disk" >/dev/null 2>&1
    tries=$((tries + 1))
    sleep 0.25
  done
}

# disk_in_use DISK: prints what holds the disk or its partitions (mounts,
# swap, device-mapper/RAID holders); 0 if something does.
disk_in_use() {
  local name dev used='' part
  name=$(disk_name "$1")
  local devs=("/dev/$name")
  for part in "/sys/class/block/$name/$name"*; do
    [[ -f $part/partition ]] && devs+=("/dev/${part##*/}")
  done
  for dev in "${devs[@]}"; do
    grep -q "^$dev " /proc/mounts 2>/dev/null && used+=" $dev is mounted;"
    grep -q "^$dev " /proc/swaps 2>/dev/null && used+=" $dev is in use as swap;"
    local holders=(/sys/class/block/"${dev##*/}"/holders/*)
    [[ -e ${holders[0]} ]] && used+=" $dev is held by ${holders[*]##*/};"
  done
  [[ -n $used ]] || return 1
  printf '%s' "${used# }"
  return 0
}

# fs_type DEV: the filesystem blkid finds on DEV ("" for none).
fs_type() {
  blkid -p -o value -s TYPE "$1" 2>/dev/null
  return 0
}

# fs_tool FSTYPE: the partclone program that images it (partclone.dd: raw).
fs_tool() {
  local tool
  case $1 in
    ext2 | ext3 | ext4) tool=partclone.$1 ;;
    vfat | msdos) tool=partclone.fat ;;
    ntfs | exfat | btrfs | xfs | f2fs | hfsplus | minix | reiser4 | apfs) tool=partclone.$1 ;;
    *) tool=partclone.dd ;;
  esac
  command -v "$tool" >/dev/null 2>&1 || tool=partclone.dd
  printf '%s' "$tool"
}

# fs_resizable FSTYPE: filesystems the agent can grow after a deploy.
fs_resizable() { [[ $1 == ext2 || $1 == ext3 || $1 == ext4 || $1 == ntfs ]]; }
# fs_shrinkable FSTYPE: filesystems it shrinks before a capture.
fs_shrinkable() { [[ $1 == ext2 || $1 == ext3 || $1 == ext4 || $1 == ntfs ]]; }

# fs_ntfs_bytes DEV: an NTFS volume's size in bytes (ntfsresize --info).
fs_ntfs_bytes() {
  local line
  while IFS= read -r line; do
    [[ $line =~ ^Current\ volume\ size:\ ([0-9]+)\ bytes ]] && { printf '%s' "${BASH_REMATCH[1]}"; return 0; }
  done < <(ntfsresize --info --force --no-progress-bar "$1" 2>/dev/null)
  return 1
}

# fs_ext_bytes DEV: an ext filesystem's size in bytes.
fs_ext_bytes() {
  local count='' size='' line
  while IFS= read -r line; do
    [[ $line =~ ^Block\ count:\ +([0-9]+) ]] && count=${BASH_REMATCH[1]}
    [[ $line =~ ^Block\ size:\ +([0-9]+) ]] && size=${BASH_REMATCH[1]}
  done < <(dumpe2fs -h "$1" 2>/dev/null)
  [[ -n $count && -n $size ]] || return 1
  printf '%s' $((count * size))
}

# fs_check_ext LABEL DEV: e2fsck -fy; "errors corrected" counts as success.
fs_check_ext() {
  RUN_OK="0 1 2" run "$1: check the filesystem" e2fsck -fy "$2"
}

# fs_ntfs_clear_check LABEL DEV: ntfsresize leaves the volume marked for a
# consistency check, which partclone.ntfs refuses and Windows would run at
# its next boot; the resize was clean, so clear the mark.
fs_ntfs_clear_check() {
  run "$1: clear the NTFS check mark after resizing" ntfsfix --clear-dirty "$2"
}

# fs_shrink LABEL DEV FSTYPE: shrinks the filesystem (close) to its
# minimum; FS_BYTES is then the least its partition may hold ("" when it
# was not shrunk).
FS_BYTES=''
fs_shrink() {
  FS_BYTES=''
  case ${3:-ext4} in
    ext2 | ext3 | ext4)
      fs_check_ext "$1" "$2" || return 1
      run "$1: shrink the filesystem" resize2fs -M "$2" || return 1
      FS_BYTES=$(fs_ext_bytes "$2") || { fail_note "$1: cannot read the size of the filesystem on $2 (dumpe2fs)"; return 1; }
      ;;
    ntfs) fs_shrink_ntfs "$1" "$2" ;;
    *) return 0 ;;
  esac
}

# fs_shrink_ntfs LABEL DEV: ntfsresize to its minimum plus a margin (10%,
# at least 64 MB: NTFS needs room for its metafiles to move and grow).
fs_shrink_ntfs() {
  local log min_mb='' line current target
  work_log "$1-ntfs-minimum"
  log=$WORK_LOG
  if ! ntfsresize --info-mb-only --force --no-progress-bar "$2" >"$log" 2>&1; then
    fail_set "$1: ntfsresize cannot resize the NTFS filesystem on $2 (hibernated Windows, or it needs chkdsk?)" \
      "ntfsresize --info-mb-only --force $2" "$log"
    return 1
  fi
  while IFS= read -r line; do
    [[ $line =~ Minsize\ \(in\ MB\):\ ([0-9]+) ]] && min_mb=${BASH_REMATCH[1]}
  done <"$log"
  current=$(fs_ntfs_bytes "$2") || current=''
  if [[ -z $min_mb || -z $current ]]; then
    fail_set "$1: cannot read the NTFS filesystem's sizes on $2 (ntfsresize)" "ntfsresize --info-mb-only --force $2" "$log"
    return 1
  fi
  local margin=$((min_mb / 10))
  ((margin < 64)) && margin=64
  target=$((min_mb + margin))
  # ntfsresize's M is 1000000 bytes. Not worth it when little would be gained.
  if ((target * 1000000 + 16 * 1048576 >= current)); then
    say "$1: the NTFS filesystem is close to its minimum already; not shrunk"
    return 0
  fi
  run "$1: shrink the filesystem" ntfsresize --force --force --no-progress-bar --size "${target}M" "$2" </dev/null || return 1
  fs_ntfs_clear_check "$1" "$2" || return 1
  current=$(fs_ntfs_bytes "$2") || { fail_note "$1: cannot read the size of the NTFS filesystem on $2"; return 1; }
  # The backup boot sector follows the volume: keep a MiB more.
  FS_BYTES=$((current + 1048576))
}

# fs_grow LABEL DEV FSTYPE: grows the filesystem to fill its partition.
fs_grow() {
  case $3 in
    ext2 | ext3 | ext4)
      fs_check_ext "$1" "$2" || return 1
      run "$1: grow the filesystem" resize2fs "$2"
      ;;
    ntfs)
      # --force twice: no question asked, and no refusal because the volume is marked for chkdsk.
      run "$1: grow the filesystem" ntfsresize --force --force --no-progress-bar "$2" </dev/null &&
        fs_ntfs_clear_check "$1" "$2"
      ;;
    *) return 0 ;;
  esac
}
