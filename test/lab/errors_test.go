package lab_test

import "errors"

var (
	// errNotWAV says a recording is not a RIFF WAVE file.
	errNotWAV = errors.New("not a WAV file")
	// errNotStereo says a recording is not two-channel PCM16 or G.711.
	errNotStereo = errors.New("WAV is not stereo PCM16 or G.711")
	// errStreamEnded says the live stream ended while the run went on.
	errStreamEnded = errors.New("live stream ended")
)
