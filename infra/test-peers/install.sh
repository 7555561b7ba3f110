#!/bin/sh
# Installs, from Debian's packages, the peers that brume's end-to-end suites
# and benchmarks run against: QEMU with iPXE ROMs and OVMF, DHCP and TFTP
# clients and servers, nmap, wrk, nginx. Services are not started: the
# policy-rc.d below stops Debian from starting daemons on install, and each
# test starts its own peer on the address and port it chose.
set -eu
[ "$(id -u)" = 0 ] || { echo "install.sh: run as root (apt-get install)" >&2; exit 1; }
created_policy=no
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
  chmod +x /usr/sbin/policy-rc.d
  created_policy=yes
fi
packages="iproute2 qemu-system-x86 ipxe ipxe-qemu ovmf isc-dhcp-client udhcpc nmap atftp curl tcpdump
  kea-admin dnsmasq tftpd-hpa nginx wrk
  partclone zstd fdisk gdisk e2fsprogs ntfs-3g dmidecode udpcast cpio busybox-static
  chromium jq"
missing=""
for p in $packages; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "installing:$missing"
  apt-get update -qq || true
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
fi
[ "$created_policy" = yes ] && rm -f /usr/sbin/policy-rc.d
# Packaged daemons must not hold the ports the tests use (67, 69, 80).
for d in dnsmasq in.tftpd nginx; do pkill -x "$d" 2>/dev/null || true; done
echo "test peers ready"
