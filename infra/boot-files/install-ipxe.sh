#!/bin/sh
# Copies the iPXE boot loaders from Debian's `ipxe` package into brume's
# boot-files directory (default ./boot-files, or BRUME_BOOT_FILES_DIR, or the
# first argument), and prints what it installed with sizes and sha256.
#
#   undionly.kpxe   BIOS PXE clients (chainloads through the NIC's UNDI driver)
#   undionly.kkpxe  BIOS, keeping the PXE stack loaded (for ROMs that need it)
#   ipxe.pxe        BIOS, with iPXE's own NIC drivers
#   ipxe.efi        UEFI x86-64, iPXE's own NIC drivers
#   snponly.efi     UEFI x86-64 through the firmware's network stack (SNP)
#
# When the package is missing it is installed with apt-get, which needs root;
# copying needs only write access to the directory.
#
#   infra/boot-files/install-ipxe.sh [dir]
set -eu

dir=${1:-${BRUME_BOOT_FILES_DIR:-./boot-files}}
src=/usr/lib/ipxe
files="undionly.kpxe undionly.kkpxe ipxe.pxe ipxe.efi snponly.efi"

if ! dpkg-query -W -f='${Status}' ipxe 2>/dev/null | grep -q "install ok installed"; then
  if [ "$(id -u)" != 0 ]; then
    echo "install-ipxe.sh: Debian's ipxe package is not installed; run as root to install it (apt-get install ipxe), or install it first" >&2
    exit 1
  fi
  echo "installing Debian's ipxe package..."
  # Keep Debian from starting services during the install (ipxe has none, its dependencies might).
  created_policy=no
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
    chmod +x /usr/sbin/policy-rc.d
    created_policy=yes
  fi
  apt-get update -qq || true
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ipxe
  [ "$created_policy" = yes ] && rm -f /usr/sbin/policy-rc.d
fi

mkdir -p "$dir"
version=$(dpkg-query -W -f='${Version}' ipxe)
echo "iPXE from Debian's ipxe $version into $dir:"
installed=0
for f in $files; do
  if [ ! -f "$src/$f" ]; then
    echo "  $f: not in this version of the package, skipped" >&2
    continue
  fi
  # Copy to a temporary name, then rename: a TFTP transfer running meanwhile never sees half a file.
  cp "$src/$f" "$dir/.$f.tmp"
  mv -f "$dir/.$f.tmp" "$dir/$f"
  size=$(wc -c < "$dir/$f" | tr -d ' ')
  sum=$(sha256sum "$dir/$f" | cut -d' ' -f1)
  printf '  %-15s %8s bytes  sha256 %s\n' "$f" "$size" "$sum"
  installed=$((installed + 1))
done
[ "$installed" -gt 0 ] || { echo "install-ipxe.sh: nothing found under $src" >&2; exit 1; }
