# Shared by scripts/test, scripts/demo and scripts/bench. Sourced, not run.

HWSEC_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# Debian packages the build, the tests and the demo need. Why each non-obvious one is here:
#   umockdev, libumockdev-dev, gir1.2-umockdev-1.0, python3-gi: simulated /sys and /dev with ioctl emulation
#   python3-dbus, python3-dbusmock: test client and the polkitd mock
#   dbus-daemon, dbus-bin: the private bus the tests run on
#   pciutils: lspci, the oracle for ACS decoding; libpci-dev: the daemon reads config space with libpci
#   polkitd, pkexec, libxml2-utils: validating the polkit policy
#   libxml2-dev: the libvirt hook parses the domain XML with libxml2
#   debhelper, lintian, fakeroot, dpkg-dev: building and checking the Debian package (scripts/build-deb)
#   systemd: systemd-analyze (unit checks) and systemd-hostnamed (benchmark peer)
#   valgrind, clang, libclang-rt-14-dev: leak checks and libFuzzer
#   bash-completion: its loader runs hwsecctl's completion in the tests (and gives its install dir)
#   man-db: renders the manual pages in the install check
#   mmdebstrap, qemu-system-x86, ipxe-qemu, zstd, e2fsprogs: the VM stage (tests/vm/run) builds a
#     Debian 12 root file system, caches it as tar+zstd, makes an ext4 image of it (mkfs.ext4 -d)
#     and boots it under QEMU; ipxe-qemu has the e1000e option ROM the hotplug tests need
#   nodejs, npm: build the Cockpit page (esbuild, PatternFly) and run its browser tests
#     (playwright-core); npm installs only what cockpit/package-lock.json pins, into the build tree
#   cockpit-ws, cockpit-bridge, cockpit-system: serve the page to the browser tests (the shell)
#   chromium: the headless browser the Cockpit tests drive (no browser download)
HWSEC_PACKAGES=(
        gcc clang meson ninja-build pkg-config
        libsystemd-dev libudev-dev libpci-dev libjson-c-dev
        umockdev libumockdev-dev gir1.2-umockdev-1.0 python3-gi
        python3-dbus python3-dbusmock python3-pytest
        dbus dbus-daemon dbus-bin pciutils polkitd pkexec libxml2-utils libxml2-dev
        systemd valgrind libclang-rt-14-dev util-linux
        bash-completion man-db debhelper lintian fakeroot dpkg-dev
        mmdebstrap qemu-system-x86 ipxe-qemu zstd e2fsprogs
        nodejs cockpit-ws cockpit-bridge cockpit-system chromium
)
# Debian's nodejs ships npm as a package of its own; NodeSource's nodejs has npm built in and
# conflicts with Debian's npm package: only ask for it when the command is missing.
command -v npm >/dev/null 2>&1 || HWSEC_PACKAGES+=(npm)

# Prometheus (promtool, the server) and prometheus-node-exporter are NOT installed: their
# postinst starts the daemons (on :9090 and :9100 of every interface) as soon as apt installs
# them. The metrics tests take the static binaries out of the bookworm .debs instead
# (apt-get download + dpkg-deb -x) into build-prom/root, and run them on loopback ports they
# choose (docs/metrics.md, tests/integration/promtools.py does the same when they are missing).
HWSEC_PROMETHEUS_DEBS=(prometheus prometheus-node-exporter)

hwsec_prometheus_binaries() {
        local root="$HWSEC_TOP/build-prom/root" debs="$HWSEC_TOP/build-prom/debs"
        [ -x "$root/usr/bin/promtool" ] && [ -x "$root/usr/bin/prometheus" ] &&
                [ -x "$root/usr/bin/prometheus-node-exporter" ] && return 0
        hwsec_log "Extracting ${HWSEC_PROMETHEUS_DEBS[*]} into build-prom/ (not installed: they would start)"
        mkdir -p "$debs" "$root"
        (cd "$debs" && apt-get -q download "${HWSEC_PROMETHEUS_DEBS[@]}") || return 1
        for d in "$debs"/*.deb; do
                dpkg-deb -x "$d" "$root" || return 1
        done
}

hwsec_log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

hwsec_ensure_packages() {
        local missing=()
        for p in "${HWSEC_PACKAGES[@]}" "$@"; do
                dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
        done
        [ ${#missing[@]} -eq 0 ] && return 0
        if [ "$(id -u)" != 0 ]; then
                echo "Missing packages: ${missing[*]}. Run as root, or install them first." >&2
                return 1
        fi
        hwsec_log "Installing ${missing[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get -o DPkg::Lock::Timeout=300 -q update
        apt-get -o DPkg::Lock::Timeout=300 -q install -y --no-install-recommends "${missing[@]}"
}

# hwsec_build DIR [meson options...]: configure (once) and build.
hwsec_build() {
        local dir=$1
        shift
        if [ ! -f "$HWSEC_TOP/$dir/build.ninja" ]; then
                meson setup "$HWSEC_TOP/$dir" "$HWSEC_TOP" "$@" >/dev/null
        else
                meson configure "$HWSEC_TOP/$dir" "$@" >/dev/null
        fi
        ninja -C "$HWSEC_TOP/$dir" >/dev/null
}
