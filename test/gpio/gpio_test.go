// Package gpio_test proves switchtap's GPIO driver against a real kernel
// GPIO chip without GPIO hardware, gpio-sim or KVM: it boots Debian's arm64
// and armhf kernels under QEMU (TCG) on the virt board, whose PL061
// controller the kernel drives, with an initramfs holding the cross-built
// guest program (./guest). The guest drives the lamps and the buzzer through
// the driver and reads the silence button, which the host pulses through
// QEMU's monitor; the host checks every level change QEMU traced on each
// line against what the guest was told to drive.
//
// setup.sh installs QEMU and fetches the kernels and busybox into
// $SWITCHTAP_GPIO_CACHE (default /var/cache/switchtap-gpio). Without them
// the test skips, unless SWITCHTAP_REQUIRE_ALL=1.
package gpio_test
