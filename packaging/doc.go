// Package packaging holds the Debian packaging of switchtap (build-deb.sh,
// the maintainer scripts, the udev rule, the sysusers entry; `make deb`
// runs it for amd64, arm64 and armhf). It has no code: its tests build the
// packages and check them, install one into a scratch root with dpkg, and
// measure the systemd unit's exposure.
package packaging
