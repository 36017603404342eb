#!/usr/bin/env bash
# Installs what test/gpio needs to boot Debian's arm64 and armhf kernels under
# QEMU (TCG, no KVM) and leaves, in the cache directory:
#   arm64/vmlinuz arm64/busybox armhf/vmlinuz armhf/busybox
# Idempotent: anything already present is kept. The cache directory is
# $SWITCHTAP_GPIO_CACHE, or /var/cache/switchtap-gpio. Needs root and apt.
set -euo pipefail

cache="${SWITCHTAP_GPIO_CACHE:-/var/cache/switchtap-gpio}"
export DEBIAN_FRONTEND=noninteractive

updated=0
apt_update() {
	if [ "$updated" = 1 ]; then
		return
	fi
	# A mirror caught mid-sync fails an index now and then: retry.
	local try
	for try in 1 2; do
		if apt-get update -qq; then
			updated=1
			return
		fi
		echo "setup.sh: apt-get update failed (try $try), retrying" >&2
		sleep 5
	done
	# apt keeps the indexes it did fetch; a kernel from another suite will do.
	echo "setup.sh: continuing with the indexes apt has" >&2
	updated=1
}

# Host tools: qemu-system-arm provides both qemu-system-arm and
# qemu-system-aarch64; fdtput names lines and drops /gpio-keys on armhf.
need=()
for pkg in qemu-system-arm:qemu-system-aarch64 cpio:cpio device-tree-compiler:fdtput; do
	command -v "${pkg#*:}" >/dev/null 2>&1 || need+=("${pkg%%:*}")
done
if [ ${#need[@]} -gt 0 ]; then
	apt_update
	apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# fetch ARCH META: downloads into $cache/ARCH the kernel that the metapackage
# META names and busybox-static, and unpacks the two files the test needs.
fetch() {
	local arch="$1" meta="$2" dir="$cache/$1"
	if [ -s "$dir/vmlinuz" ] && [ -s "$dir/busybox" ]; then
		return
	fi
	if ! dpkg --print-foreign-architectures | grep -qx "$arch"; then
		dpkg --add-architecture "$arch"
		updated=0
	fi
	apt_update
	# The metapackage depends on linux-image-6.1.0-NN-<flavour>; NN moves with
	# point releases, so ask apt rather than hard-coding it.
	local image
	image="$(apt-cache depends "$meta:$arch" | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')"
	image="${image%%:*}"
	if [ -z "$image" ]; then
		echo "setup.sh: cannot resolve the kernel named by $meta:$arch" >&2
		exit 1
	fi
	local work
	work="$(mktemp -d)"
	chmod 755 "$work" # apt-get download drops privileges to _apt
	(cd "$work" && apt-get download -qq -o APT::Sandbox::User=root "$image:$arch" "busybox-static:$arch" >/dev/null)
	mkdir -p "$work/root" "$dir"
	for deb in "$work"/*.deb; do
		dpkg-deb -x "$deb" "$work/root"
	done
	local vmlinuz
	vmlinuz="$(ls "$work"/root/boot/vmlinuz-* | head -n1)"
	cp "$vmlinuz" "$dir/vmlinuz.tmp" && mv "$dir/vmlinuz.tmp" "$dir/vmlinuz"
	cp "$work/root/bin/busybox" "$dir/busybox.tmp" && mv "$dir/busybox.tmp" "$dir/busybox"
	basename "$vmlinuz" >"$dir/kernel-version"
	rm -rf "$work"
	echo "setup.sh: $arch: $(cat "$dir/kernel-version"), busybox-static"
}

fetch arm64 linux-image-arm64
fetch armhf linux-image-armmp
