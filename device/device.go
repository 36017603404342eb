// Package device shows the four-ring alarm to the receptionists: the alarm
// policy that turns call events into warning and alarm edges on the capture
// clock, the panel that shows them (amber and red lamps, a buzzer, a status
// lamp, optional lamps per receptionist) on GPIO lines or in the log, the
// silence button, and the driver that plays the lamp and buzzer patterns.
//
// The policy is pure and driven only by capture times, so a replayed pcap
// gives exactly the edges the live capture gave. The blink and buzzer
// patterns are display patterns, not measurements: the driver plays them on
// the wall clock.
package device
