#!/bin/sh
# build-deb.sh VERSION ARCH BINARY OUTDIR: the switchtap package for one
# Debian architecture (amd64, arm64, armhf) around a static BINARY built for
# it, written to OUTDIR/switchtap_<version>_<arch>.deb; prints that path.
# VERSION is `git describe` or a release number: it is made a valid Debian
# version (a leading v dropped, a non-numeric start put after 0~, a
# character Debian refuses replaced). Needs dpkg-deb (Debian's dpkg) only.
set -eu

# debversion: upstream versions must start with a digit and hold only
# [A-Za-z0-9.+~]; "-" would start a Debian revision. dev becomes 0~dev,
# 9ce2ca5-dirty 9ce2ca5+dirty, v1.2.0-3-gabc 1.2.0+3+gabc.
debversion() {
	v=${1#v}
	v=$(printf '%s' "$v" | tr -- '-' '+' | tr -c 'A-Za-z0-9.+~' '.')
	case "$v" in
	[0-9]*) ;;
	*) v="0~$v" ;;
	esac
	printf '%s\n' "$v"
}

# --version-only VERSION prints the Debian version and stops (tests).
if [ $# -eq 2 ] && [ "$1" = --version-only ]; then
	debversion "$2"
	exit 0
fi
if [ $# -ne 4 ]; then
	echo "usage: $0 VERSION ARCH BINARY OUTDIR" >&2
	exit 2
fi
version=$1 arch=$2 binary=$3 outdir=$4
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)

case "$arch" in
amd64 | arm64 | armhf) ;;
*)
	echo "$0: architecture $arch: want amd64, arm64 or armhf" >&2
	exit 2
	;;
esac
if [ ! -f "$binary" ]; then
	echo "$0: no binary $binary (make cross builds them)" >&2
	exit 1
fi

debver=$(debversion "$version")

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
chmod 0755 "$stage"
# Modes are set explicitly: the caller's umask (switchtap's own is 077)
# must not leak into the package.
umask 022
install -d -m 0755 "$stage/DEBIAN" "$stage/usr/bin" "$stage/etc/switchtap" \
	"$stage/usr/lib/systemd/system" "$stage/usr/lib/udev/rules.d" \
	"$stage/usr/lib/sysusers.d" "$stage/usr/share/doc/switchtap" \
	"$stage/usr/share/lintian/overrides"
install -m 0755 "$binary" "$stage/usr/bin/switchtap"
# 0640: the file may hold the uplink's token; the postinst gives it to
# group switchtap.
install -m 0640 "$top/deploy/switchtap.yaml" "$stage/etc/switchtap/switchtap.yaml"
install -m 0644 "$top/deploy/switchtap.service" "$stage/usr/lib/systemd/system/switchtap.service"
install -m 0644 "$here/udev/60-switchtap-gpio.rules" "$stage/usr/lib/udev/rules.d/60-switchtap-gpio.rules"
install -m 0644 "$here/sysusers/switchtap.conf" "$stage/usr/lib/sysusers.d/switchtap.conf"
install -m 0644 "$top/README.md" "$stage/usr/share/doc/switchtap/README.md"
install -m 0644 "$here/debian/copyright" "$stage/usr/share/doc/switchtap/copyright"
install -m 0644 "$here/debian/lintian-overrides" "$stage/usr/share/lintian/overrides/switchtap"
# A native package's changelog (Debian policy 12.7): one entry for the
# version built, dated by the commit (reproducible), else by
# SOURCE_DATE_EPOCH, else now.
when=$(git -C "$top" log -1 --format=%cD 2>/dev/null ||
	date -u -R ${SOURCE_DATE_EPOCH:+-d "@$SOURCE_DATE_EPOCH"})
cat >"$stage/usr/share/doc/switchtap/changelog" <<CHANGES
switchtap ($debver) unstable; urgency=medium

  * Built from the switchtap source at $version; the changes are in the
    project's CHANGELOG.md.

 -- switchtap maintainers <switchtap@users.noreply.github.com>  $when
CHANGES
gzip -9n "$stage/usr/share/doc/switchtap/changelog"
chmod 0644 "$stage/usr/share/doc/switchtap/changelog.gz"
for f in postinst prerm postrm; do
	install -m 0755 "$here/debian/$f" "$stage/DEBIAN/$f"
done
install -m 0644 "$here/debian/conffiles" "$stage/DEBIAN/conffiles"
size=$(du -sk --exclude=DEBIAN "$stage" | cut -f1)
sed -e "s/@VERSION@/$debver/" -e "s/@ARCH@/$arch/" -e "s/@SIZE@/$size/" \
	"$here/debian/control.in" >"$stage/DEBIAN/control"
chmod 0644 "$stage/DEBIAN/control"

mkdir -p "$outdir"
out="$outdir/switchtap_${debver}_${arch}.deb"
dpkg-deb --build --root-owner-group "$stage" "$out" >/dev/null
printf '%s\n' "$out"
