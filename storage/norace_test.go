//go:build !race

package storage

// raceEnabled is true under -race, whose shadow memory inflates the RSS.
const raceEnabled = false
