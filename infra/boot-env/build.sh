#!/usr/bin/env bash
# Builds brume's client boot environment: the small Linux a PXE-booted
# machine runs to capture or deploy its disks. Everything comes from Debian
# packages (the same release as this machine's apt sources):
#
#   DIR/vmlinuz         Debian's kernel (the package linux-image-amd64 points at)
#   DIR/initrd.img      busybox, bash, jq, curl, partclone, zstd, sfdisk, sgdisk,
#                       e2fsprogs, ntfs-3g tools, dmidecode, udpcast, util-linux
#                       bits, the kernel modules for network and disks, /init and
#                       the brume agent (infra/boot-env/agent)
#   DIR/build-info.json inputsHash, kernelVersion, packages and their versions,
#                       sizes, buildSeconds, builtAt
#
#   infra/boot-env/build.sh [--out DIR] [--agent-dir DIR] [--force] [--update]
#
#   --out DIR        where the files go (default ./data/boot-env); downloaded
#                    packages are kept in DIR/.cache/debs
#   --agent-dir DIR  the agent to put in (default: infra/boot-env/agent); it
#                    must hold an executable `brume-agent`
#   --force          rebuild even when the inputs have not changed
#   --update         run apt-get update first (otherwise only when apt has no
#                    package lists)
#
# Nothing is rebuilt when the inputs hash (package names and the exact
# versions apt resolves, and every file under infra/boot-env/ and the agent
# directory) matches DIR/build-info.json and the outputs exist.
#
# Needs: apt-get, dpkg-deb, cpio, zstd (or xz/gzip), depmod (kmod), flock.
# Run as root to let the script apt-get install the missing ones, update
# apt's lists, and create /dev/console in the image.
set -euo pipefail
export LC_ALL=C
# Note: with pipefail, `producer | grep -q` fails when grep quits before the
# producer has written everything (SIGPIPE); pipelines here use grep >/dev/null.

started=$(date +%s)
here=$(cd "$(dirname "$0")" && pwd -P)
self=$here/$(basename "$0")

orig_args=("$@")
out=./data/boot-env
agent_dir=$here/agent
force=no
update=no

usage() { sed -n '2,/^set -euo/p' "$self" | sed -e '$d' -e 's/^# \{0,1\}//'; }
die() { echo "build.sh: $*" >&2; exit 1; }
say() { echo "boot-env: $*"; }
# Seconds since the previous lap, for the progress lines.
lap_at=$started
took=""
lap() { local now; now=$(date +%s); took="$((now - lap_at)) s"; lap_at=$now; }

while [ $# -gt 0 ]; do
  case $1 in
    --out) [ $# -ge 2 ] || die "--out needs a directory"; out=$2; shift 2 ;;
    --out=*) out=${1#--out=}; shift ;;
    --agent-dir) [ $# -ge 2 ] || die "--agent-dir needs a directory"; agent_dir=$2; shift 2 ;;
    --agent-dir=*) agent_dir=${1#--agent-dir=}; shift ;;
    --force) force=yes; shift ;;
    --update) update=yes; shift ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown argument: $1 (see --help)" ;;
  esac
done

is_root=no
[ "$(id -u)" = 0 ] && is_root=yes

# ---------------------------------------------------------------- what goes in

# Debian packages the image's programs come from. The kernel package is the
# one linux-image-amd64 depends on; the shared libraries these need are
# resolved from their Depends (lib* packages) and checked against the ELF
# files afterwards.
PACKAGES="busybox-static bash jq curl ca-certificates zstd fdisk gdisk e2fsprogs ntfs-3g partclone
  dosfstools dmidecode pciutils pci.ids udpcast util-linux mount libc6"

# Programs copied into the image, as paths inside the packages (a trailing *
# is a glob). Each keeps its place (/bin, /sbin, /usr/bin, /usr/sbin; the
# image has a merged /usr). Busybox provides everything else (sh, modprobe,
# udhcpc, ip, sha256sum, dd, ...), unless a real program below has the name.
PROGRAMS="
  bin/bash
  usr/bin/jq
  usr/bin/curl
  usr/bin/zstd usr/bin/unzstd usr/bin/zstdcat usr/bin/zstdmt
  sbin/sfdisk sbin/fdisk
  sbin/sgdisk sbin/gdisk sbin/fixparts
  sbin/e2fsck sbin/fsck.ext2 sbin/fsck.ext3 sbin/fsck.ext4 sbin/resize2fs sbin/mke2fs sbin/mkfs.ext2
  sbin/mkfs.ext3 sbin/mkfs.ext4 sbin/tune2fs sbin/e2label sbin/dumpe2fs sbin/e2image
  sbin/ntfsresize sbin/ntfsclone sbin/ntfslabel sbin/mkntfs sbin/mkfs.ntfs bin/ntfsfix bin/ntfsinfo
  bin/ntfs-3g sbin/mount.ntfs sbin/mount.ntfs-3g
  sbin/fsck.fat sbin/fsck.vfat sbin/mkfs.fat sbin/mkfs.vfat sbin/fatlabel
  usr/sbin/partclone.*
  usr/sbin/dmidecode
  usr/bin/lspci
  usr/bin/udp-receiver usr/bin/udp-sender
  bin/lsblk sbin/blkid sbin/wipefs sbin/blockdev bin/findmnt usr/bin/partx usr/bin/addpart usr/bin/delpart
  usr/bin/resizepart usr/bin/lscpu usr/bin/lsmem usr/bin/flock usr/bin/getopt
  sbin/losetup bin/mount bin/umount
"

# Data files copied as they are.
DATA_FILES="usr/share/misc/pci.ids"

# Kernel modules loaded at boot (with what they depend on). The first list
# must exist (or be built in); the second is loaded when present.
MODULES_REQUIRED="virtio_pci virtio_net virtio_blk virtio_scsi e1000 e1000e ahci nvme sd_mod
  ext4 vfat nls_cp437 nls_iso8859_1 nls_utf8 loop af_packet"
MODULES_EXTRA="ata_piix igb igc r8169 tg3 crc32c_generic crc32c_intel fuse
  xhci_pci ehci_pci usbhid hid_generic sdhci_pci mmc_block"

# ------------------------------------------------------------------ preflight

[ -f "$agent_dir/brume-agent" ] || die "the agent is missing: $agent_dir/brume-agent does not exist.
The boot environment runs it; it is written separately (infra/boot-env/agent/brume-agent).
Build it first, or point --agent-dir at a directory holding an executable brume-agent."
agent_dir=$(cd "$agent_dir" && pwd -P)
for f in init udhcpc.script; do
  [ -f "$here/$f" ] || die "$here/$f is missing"
done

# Host programs the build needs, and the Debian package each comes from.
need_tools() {
  local missing="" pair
  for pair in apt-get:apt dpkg-deb:dpkg cpio:cpio zstd:zstd depmod:kmod flock:util-linux sha256sum:coreutils; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || PATH=$PATH:/usr/sbin:/sbin command -v "${pair%%:*}" >/dev/null 2>&1 \
      || missing="$missing ${pair#*:}"
  done
  echo "$missing"
}
export PATH=$PATH:/usr/sbin:/sbin
missing=$(need_tools)
if [ -n "$missing" ]; then
  [ "$is_root" = yes ] || die "these Debian packages are needed to build and are not installed:$missing.
Run build.sh as root (it installs them), or: sudo apt-get install$missing"
  say "installing$missing"
  log=$(mktemp)
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing >"$log" 2>&1 \
    || { apt-get update -q >>"$log" 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing >>"$log" 2>&1; } \
    || { cat "$log" >&2; rm -f "$log"; die "apt-get install$missing failed"; }
  rm -f "$log"
fi

mkdir -p "$out"
out=$(cd "$out" && pwd -P)
case $out/ in
  "$here"/*) die "--out $out is inside $here, whose files make the inputs hash: choose a directory outside it" ;;
esac
if [ "$is_root" != yes ]; then
  say "not running as root: fine for building, but apt-get update and installs are not possible, and the image gets no /dev/console node (init copes)"
fi
cache=$out/.cache
debs=$cache/debs
mkdir -p "$debs"

# One build at a time per output directory.
exec 9>"$cache/lock"
flock -n 9 || { say "waiting for another build in $out to finish"; flock 9; }

apt_opts=()
# As root apt-get download drops to the _apt user, which cannot write the cache: stay root.
[ "$is_root" = yes ] && apt_opts=(-o APT::Sandbox::User=root)

apt_update() {
  [ "$is_root" = yes ] || die "apt's package lists need updating (apt-get update), which needs root: run build.sh as root"
  say "apt-get update"
  apt-get update -qq >/dev/null || die "apt-get update failed"
}
[ "$update" = yes ] && apt_update

# ------------------------------------------------------------ resolve versions

# One recursive `apt-cache depends` (each apt-cache call reads all package
# lists: ~0.6 s without a pkgcache), then, in awk: the kernel package
# linux-image-amd64 depends on (linux-image-6.1.0-N-amd64), and the
# shared-library packages the programs' packages need, recursively (Depends
# and Pre-Depends, the first of each alternative, lib* packages only).
resolve() {
  # shellcheck disable=SC2086
  apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks --no-replaces --no-enhances \
      linux-image-amd64 $PACKAGES 2>/dev/null \
    | awk -v top="$PACKAGES" '
        /^[^ ]/ { pkg = $1; alt = 0; next }
        $1 ~ /^\|?(Pre)?Depends:$/ {
          first = !alt
          alt = ($1 ~ /^\|/)
          if (!first) next
          dep = $2; sub(/:.*/, "", dep)
          if (pkg == "linux-image-amd64" && dep ~ /^linux-image-[0-9]/ && kernel == "") kernel = dep
          if (dep ~ /^(lib|zlib1g$)/ && !((pkg, dep) in seen)) { seen[pkg, dep] = 1; deps[pkg] = deps[pkg] " " dep }
        }
        END {
          if (kernel == "") exit 1
          print "kernel " kernel
          n = split(top, queue, /[ \n]+/)
          for (i = 1; i <= n; i++) if (queue[i] != "") want[queue[i]] = 1
          head = 1
          while (head <= n) {
            p = queue[head++]
            if (p == "") continue
            m = split(deps[p], d, " ")
            for (j = 1; j <= m; j++) if (!(d[j] in want)) { want[d[j]] = 1; queue[++n] = d[j] }
          }
          for (p in want) print "package " p
        }'
}
resolved=$(resolve) || true
if ! grep '^kernel ' >/dev/null <<<"$resolved"; then
  apt_update
  resolved=$(resolve) || die "apt knows no linux-image-amd64: are Debian's main sources in /etc/apt/sources.list?"
fi
kpkg=$(echo "$resolved" | awk '$1 == "kernel" { print $2 }')
all_packages=$(echo "$resolved" | awk '$1 == "package" { print $2 }' | sort | tr '\n' ' ')

# name=version for every package, as apt resolves them now (its candidate).
# shellcheck disable=SC2086
versions=$(apt-cache policy $kpkg $all_packages 2>/dev/null | awk '
  /^[^ ]/ { p = $1; sub(/:$/, "", p) }
  $1 == "Candidate:" { print p "=" $2 }' | sort)
bad=$(echo "$versions" | grep -E '=\(none\)$' | sed 's/=.*//' | tr '\n' ' ' || true)
if [ -n "$bad" ]; then
  apt_update
  # shellcheck disable=SC2086
  versions=$(apt-cache policy $kpkg $all_packages 2>/dev/null | awk '/^[^ ]/ { p = $1; sub(/:$/, "", p) } $1 == "Candidate:" { print p "=" $2 }' | sort)
  bad=$(echo "$versions" | grep -E '=\(none\)$' | sed 's/=.*//' | tr '\n' ' ' || true)
  [ -z "$bad" ] || die "apt has no installable version of: $bad"
fi
for p in $kpkg $all_packages; do
  grep "^$p=" >/dev/null <<<"$versions" || die "apt knows no package $p (apt-get update, or check PACKAGES in build.sh)"
done
kversion=$(echo "$versions" | awk -F= -v k="$kpkg" '$1 == k { print $2 }')
kver=${kpkg#linux-image-}

# ------------------------------------------------------------------ inputs hash

# Every file under infra/boot-env/ (this script, init, udhcpc.script, the
# agent...) and under the agent directory, by path relative to its root.
hash_files() {
  local root=$1 prefix=$2
  (cd "$root" && find . -type f ! -name '*.swp' ! -name '*~' -print | sort | while IFS= read -r f; do
    printf '%s%s %s\n' "$prefix" "${f#./}" "$(sha256sum < "$f" | cut -d' ' -f1)"
  done)
}
inputs_hash=$( {
  echo "brume-boot-env/1"
  echo "$versions"
  case $agent_dir/ in
    "$here"/*) hash_files "$here" "" ;;
    *) hash_files "$here" "" | grep -v '^agent/' || true; hash_files "$agent_dir" "agent/" ;;
  esac
} | sha256sum | cut -d' ' -f1)

info=$out/build-info.json
if [ "$force" = no ] && [ -s "$out/vmlinuz" ] && [ -s "$out/initrd.img" ] && [ -f "$info" ] \
   && grep -q "\"inputsHash\": \"$inputs_hash\"" "$info"; then
  echo "boot environment up to date (hash ${inputs_hash:0:16}, kernel $kver) in $out"
  exit 0
fi
lap
say "building in $out (inputs hash ${inputs_hash:0:16}, kernel $kver; resolved in $took)"

# ------------------------------------------------------------------- download

# 'URI' file size SHA256:hash for each package, as apt would download it
# (asked from an empty directory: apt prints nothing for files already there).
empty=$cache/empty
rm -rf "$empty"
mkdir -p "$empty"
# shellcheck disable=SC2046
uris=$(cd "$empty" && apt-get download "${apt_opts[@]}" --print-uris $(echo "$versions" | tr '\n' ' ')) \
  || die "apt-get download --print-uris failed"
rmdir "$empty"
[ -n "$uris" ] || die "apt-get download --print-uris printed nothing"
files=""
wanted=""
cached=0
total=0
while read -r _uri file _size sum; do
  [ -n "$file" ] || continue
  total=$((total + 1))
  files="$files $file"
  sum=${sum#SHA256:}
  if [ -f "$debs/$file" ] && [ "$(sha256sum < "$debs/$file" | cut -d' ' -f1)" = "$sum" ]; then
    cached=$((cached + 1))
  else
    rm -f "$debs/$file"
    wanted="$wanted $(echo "$file" | sed -E 's/^([^_]+)_([^_]+)_.*/\1=\2/; s/%3a/:/g')"
  fi
done <<EOF
$uris
EOF
# Versions apt no longer resolves leave the cache.
for f in "$debs"/*.deb; do
  [ -e "$f" ] || continue
  case " $files " in *" $(basename "$f") "*) ;; *) rm -f "$f" ;; esac
done
say "downloading $((total - cached)) packages ($cached of $total cached in $debs)"
if [ -n "$wanted" ]; then
  # shellcheck disable=SC2086
  if ! (cd "$debs" && apt-get download -q "${apt_opts[@]}" $wanted >/dev/null); then
    # Stale package lists name versions the mirror has dropped: update them and start over (once).
    [ -z "${BRUME_BOOT_ENV_RETRY:-}" ] || die "apt-get download$wanted failed"
    [ "$is_root" = yes ] || die "apt-get download failed (stale package lists? run apt-get update, or build.sh --update as root)"
    apt_update
    say "starting over with the updated package lists"
    exec 9>&-
    BRUME_BOOT_ENV_RETRY=1 exec "$self" "${orig_args[@]}"
  fi
fi

# -------------------------------------------------------------------- extract

work=$cache/work
rm -rf "$work"
stage=$work/stage     # every package but the kernel, as dpkg would install them
kstage=$work/kernel   # the kernel package
root=$work/root       # the image
mkdir -p "$stage" "$kstage" "$root"
trap 'rm -rf "$work" "$out/.initrd.img.tmp" "$out/.vmlinuz.tmp" "$info.tmp"' EXIT

lap
say "downloaded in $took; extracting $total packages"
for file in $files; do
  case $file in
    "${kpkg}_"*) dpkg-deb -x "$debs/$file" "$kstage" ;;
    *) dpkg-deb -x "$debs/$file" "$stage" ;;
  esac
done
[ -f "$kstage/boot/vmlinuz-$kver" ] || die "$kpkg has no boot/vmlinuz-$kver"

# Resolves a path inside the stage, following symlinks as if the stage were /.
stage_real() {
  local p=$1 hops=0 target
  while [ -L "$stage/$p" ]; do
    target=$(readlink "$stage/$p")
    case $target in
      /*) p=${target#/} ;;
      *) p=$(dirname "$p")/$target ;;
    esac
    hops=$((hops + 1))
    [ $hops -lt 40 ] || die "symlink loop at $1"
  done
  # Normalise a/b/../c.
  (cd "$stage/$(dirname "$p")" 2>/dev/null && echo "$(pwd -P)/$(basename "$p")") | sed "s|^$stage/||"
}

# Where a package path lands in the image (merged /usr: /bin is /usr/bin...).
image_path() {
  case $1 in
    bin/*|sbin/*|lib/*|lib64/*) echo "usr/$1" ;;
    *) echo "$1" ;;
  esac
}

# ---------------------------------------------------------------- the image

lap
say "extracted in $took; assembling the image"
mkdir -p "$root"/usr/bin "$root"/usr/sbin "$root"/usr/lib/x86_64-linux-gnu "$root"/usr/lib64 \
  "$root"/usr/local/bin "$root"/usr/local/lib "$root"/usr/share/udhcpc \
  "$root"/dev "$root"/proc "$root"/sys "$root"/run "$root"/tmp "$root"/mnt "$root"/root "$root"/etc/brume \
  "$root"/etc/ssl/certs "$root"/var/log "$root"/var/tmp
ln -s usr/bin "$root/bin"
ln -s usr/sbin "$root/sbin"
ln -s usr/lib "$root/lib"
ln -s usr/lib64 "$root/lib64"
ln -s ../run "$root/var/run"
chmod 1777 "$root/tmp" "$root/var/tmp"
chmod 700 "$root/root"

ldso_path=$(stage_real lib64/ld-linux-x86-64.so.2)
[ -f "$stage/$ldso_path" ] || die "no dynamic loader in libc6 (lib64/ld-linux-x86-64.so.2)"
ldso=$stage/$ldso_path
cp "$ldso" "$root/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"
ln -s ../lib/x86_64-linux-gnu/ld-linux-x86-64.so.2 "$root/usr/lib64/ld-linux-x86-64.so.2"
libpath=$stage/lib/x86_64-linux-gnu:$stage/usr/lib/x86_64-linux-gnu:$stage/lib:$stage/usr/lib

elfs=""
libs_done=" "

# Copies the shared libraries an ELF file needs (its whole closure, as the
# staged dynamic loader resolves it against the staged libraries only).
copy_libraries() {
  local file=$1 listing name path
  listing=$("$ldso" --inhibit-cache --library-path "$libpath" --list "$file" 2>&1) \
    || die "cannot list the libraries of $file: $listing"
  while read -r name arrow path _rest; do
    [ "$arrow" = "=>" ] || continue
    case $path in
      "$stage"/*) ;;
      not) die "$file needs $name, which no staged package provides: add its package to PACKAGES in build.sh" ;;
      *) die "$file needs $name, found only outside the staged packages ($path): add its package to PACKAGES in build.sh" ;;
    esac
    case $name in ld-linux-x86-64.so.2|*/ld-linux-x86-64.so.2) continue ;; esac
    case $libs_done in *" $name "*) continue ;; esac
    libs_done="$libs_done$name "
    cp -L "$path" "$root/usr/lib/x86_64-linux-gnu/$name"
  done <<EOF
$listing
EOF
}

is_elf() { [ "$(head -c 4 "$1" | od -An -c | tr -d ' ')" = '177ELF' ]; }

# Copies one program (following symlinks inside the package: partclone.ext4 -> partclone.extfs).
copy_program() {
  local p=$1 real dest rdest
  real=$(stage_real "$p")
  [ -f "$stage/$real" ] || die "$p is not in the packages (looked for $stage/$p)"
  dest=$(image_path "$p")
  rdest=$(image_path "$real")
  if [ ! -e "$root/$rdest" ]; then
    mkdir -p "$root/$(dirname "$rdest")"
    cp "$stage/$real" "$root/$rdest"
    chmod 755 "$root/$rdest"
    if is_elf "$root/$rdest"; then elfs="$elfs $rdest"; fi
  fi
  if [ "$dest" != "$rdest" ] && [ ! -e "$root/$dest" ]; then
    if [ "$(dirname "$dest")" = "$(dirname "$rdest")" ]; then
      ln -s "$(basename "$rdest")" "$root/$dest"
    else
      ln -s "/$rdest" "$root/$dest"
    fi
  fi
}

program_count=0
for spec in $PROGRAMS; do
  case $spec in
    *'*'*)
      matched=no
      for f in "$stage"/$spec; do
        [ -e "$f" ] || [ -L "$f" ] || continue
        copy_program "${f#"$stage"/}"
        matched=yes
        program_count=$((program_count + 1))
      done
      [ $matched = yes ] || die "nothing in the packages matches $spec"
      ;;
    *) copy_program "$spec"; program_count=$((program_count + 1)) ;;
  esac
done
for f in $elfs; do copy_libraries "$root/$f"; done
lib_count=$(echo "$libs_done" | wc -w)

# Busybox, and a link for each of its applets no real program above provides.
cp "$stage/bin/busybox" "$root/usr/bin/busybox"
chmod 755 "$root/usr/bin/busybox"
applets=0
for a in $("$stage/bin/busybox" --list-full); do
  case $a in linuxrc|bin/busybox) continue ;; esac
  dest=$(image_path "$a")
  name=$(basename "$dest")
  # A real program of that name anywhere on PATH wins over the applet.
  if [ -e "$root/usr/bin/$name" ] || [ -L "$root/usr/bin/$name" ] || [ -e "$root/usr/sbin/$name" ] || [ -L "$root/usr/sbin/$name" ]; then
    continue
  fi
  ln -s /usr/bin/busybox "$root/$dest"
  applets=$((applets + 1))
done

for f in $DATA_FILES; do
  real=$(stage_real "$f")
  [ -f "$stage/$real" ] || die "$f is not in the packages"
  mkdir -p "$root/$(dirname "$(image_path "$f")")"
  cp "$stage/$real" "$root/$(image_path "$f")"
done

# Certificates for https:// servers: Debian's bundle (what update-ca-certificates would build).
cat "$stage"/usr/share/ca-certificates/mozilla/*.crt > "$root/etc/ssl/certs/ca-certificates.crt"

# ------------------------------------------------------------- kernel modules

say "kernel modules for $kver"
kmods=$kstage/lib/modules/$kver
[ -d "$kmods" ] || die "$kpkg has no lib/modules/$kver"
depmod -b "$kstage" "$kver"
norm() { echo "$1" | tr '-' '_'; }
builtin_has() { sed 's|.*/||; s|\.ko.*$||; s|-|_|g' "$kmods/modules.builtin" | grep -x "$(norm "$1")" >/dev/null; }
# The modules.dep line of each module (the module and everything it depends on, in order).
module_files() {
  awk -v want="$(norm "$1")" '{
      path = $1; sub(/:$/, "", path)
      n = path; sub(/.*\//, "", n); sub(/\.ko.*$/, "", n); gsub(/-/, "_", n)
      if (n == want) { print path; for (i = 2; i <= NF; i++) print $i; exit }
    }' "$kmods/modules.dep"
}
load_list=""
module_paths=""
for m in $MODULES_REQUIRED $MODULES_EXTRA; do
  found=$(module_files "$m")
  if [ -n "$found" ]; then
    load_list="$load_list $(norm "$m")"
    module_paths="$module_paths $found"
  elif builtin_has "$m"; then
    say "  $m is built into the kernel"
  else
    case " $MODULES_REQUIRED " in
      *" $m "*) die "kernel module $m is neither in $kpkg nor built into it" ;;
      *) say "  $m: not in this kernel, skipped" ;;
    esac
  fi
done
imods=$root/usr/lib/modules/$kver
mkdir -p "$imods"
module_count=0
for p in $(echo "$module_paths" | tr ' ' '\n' | grep -v '^$' | sort -u); do
  mkdir -p "$imods/$(dirname "$p")"
  cp "$kmods/$p" "$imods/$p"
  module_count=$((module_count + 1))
done
for f in modules.order modules.builtin modules.builtin.modinfo; do
  [ -f "$kmods/$f" ] && cp "$kmods/$f" "$imods/$f"
done
depmod -b "$root" "$kver"
echo "$load_list" | tr ' ' '\n' | grep -v '^$' > "$root/etc/brume/modules"
say "  $module_count module files, loading:$load_list"
lap
say "image assembled in $took"

# ------------------------------------------------------- init, agent, settings

cp "$here/init" "$root/init"
chmod 755 "$root/init"
cp "$here/udhcpc.script" "$root/usr/share/udhcpc/default.script"
chmod 755 "$root/usr/share/udhcpc/default.script"
mkdir -p "$root/usr/local/lib/brume-agent"
cp -R "$agent_dir"/. "$root/usr/local/lib/brume-agent/"
chmod 755 "$root/usr/local/lib/brume-agent/brume-agent"
ln -s ../lib/brume-agent/brume-agent "$root/usr/local/bin/brume-agent"

cat > "$root/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/bash
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
EOF
cat > "$root/etc/group" <<'EOF'
root:x:0:
nogroup:x:65534:
EOF
echo 'root::19000:0:99999:7:::' > "$root/etc/shadow"
chmod 600 "$root/etc/shadow"
cat > "$root/etc/nsswitch.conf" <<'EOF'
passwd: files
group: files
hosts: files dns
EOF
printf '127.0.0.1\tlocalhost\n::1\tlocalhost\n' > "$root/etc/hosts"
echo brume-client > "$root/etc/hostname"
ln -s /proc/self/mounts "$root/etc/mtab"
: > "$root/etc/fstab"
cat > "$root/etc/profile" <<'EOF'
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin
export TERM=${TERM:-linux} HOME=/root
[ -f /run/brume/cmdline.env ] && . /run/brume/cmdline.env
PS1='brume-client:\w# '
echo "brume boot environment: settings in /run/brume/cmdline.env, leases in /run/brume/net/, the agent is /usr/local/bin/brume-agent"
EOF
cp "$root/etc/profile" "$root/root/.bashrc"
cat > "$root/etc/brume-release" <<EOF
BRUME_BOOT_ENV_HASH=$inputs_hash
BRUME_BOOT_ENV_KERNEL=$kver
BRUME_BOOT_ENV_BUILT=$(date -u +%Y-%m-%dT%H:%M:%SZ)
EOF
echo "$versions" > "$root/etc/brume/packages"
# The kernel opens /dev/console before /init runs; only root can make the node (init copes without it).
if [ "$is_root" = yes ]; then mknod -m 600 "$root/dev/console" c 5 1; fi

# ------------------------------------------------------------------ initramfs

# zstd when the kernel can unpack it (fast to unpack under emulation, nearly
# as small as xz), else xz, else gzip.
kconfig=$kstage/boot/config-$kver
if grep -q '^CONFIG_RD_ZSTD=y' "$kconfig" && command -v zstd >/dev/null; then
  compress="zstd -q -19 -T0"
elif grep -q '^CONFIG_RD_XZ=y' "$kconfig" && command -v xz >/dev/null; then
  compress="xz -q --check=crc32 -9 -T0"
else
  compress="gzip -9n"
fi
uncompressed=$(du -sb "$root" | cut -f1)
say "initramfs: $((uncompressed / 1048576)) MB unpacked, $program_count programs, $lib_count libraries, $applets busybox applets; compressing ($compress)"
(cd "$root" && find . -mindepth 1 | sort | cpio -o -H newc -R 0:0 --quiet | $compress) > "$out/.initrd.img.tmp"
cp "$kstage/boot/vmlinuz-$kver" "$out/.vmlinuz.tmp"
mv -f "$out/.vmlinuz.tmp" "$out/vmlinuz"
mv -f "$out/.initrd.img.tmp" "$out/initrd.img"
lap
say "compressed in $took"
rm -rf "$work"
trap - EXIT

vmlinuz_size=$(wc -c < "$out/vmlinuz" | tr -d ' ')
initrd_size=$(wc -c < "$out/initrd.img" | tr -d ' ')
seconds=$(( $(date +%s) - started ))

# --------------------------------------------------------------- build-info

{
  echo "{"
  echo "  \"format\": \"brume-boot-env/1\","
  echo "  \"inputsHash\": \"$inputs_hash\","
  echo "  \"kernelVersion\": \"$kver\","
  echo "  \"kernelPackage\": { \"name\": \"$kpkg\", \"version\": \"$kversion\" },"
  echo "  \"packages\": {"
  echo "$versions" | awk -F= '{ printf "%s    \"%s\": \"%s\"", (NR > 1 ? ",\n" : ""), $1, $2 } END { print "" }'
  echo "  },"
  echo "  \"modules\": [$(echo "$load_list" | awk '{ for (i = 1; i <= NF; i++) printf "%s\"%s\"", (i > 1 ? ", " : ""), $i }')],"
  echo "  \"compression\": \"${compress%% *}\","
  echo "  \"sizes\": { \"vmlinuz\": $vmlinuz_size, \"initrd.img\": $initrd_size, \"initramfsUnpacked\": $uncompressed },"
  echo "  \"buildSeconds\": $seconds,"
  echo "  \"builtAt\": \"$(date -u +%Y-%m-%dT%H:%M:%SZ)\""
  echo "}"
} > "$info.tmp"
mv -f "$info.tmp" "$info"

say "initramfs: $((initrd_size / 1048576)) MB ($initrd_size bytes), vmlinuz: $((vmlinuz_size / 1048576)) MB ($vmlinuz_size bytes)"
say "done in ${seconds} s: $out/vmlinuz, $out/initrd.img, $out/build-info.json"
