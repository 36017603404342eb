package sip

// Speech is what the two channels of an answered leg's audio show without
// listening (issue 13): when each side first spoke, how long each talked,
// the silences and the overtalk, measured by a voice-activity detector on
// the decoded RTP as the call is recorded. Times are seconds from the
// answer (the 200 OK's capture time). Fields may be added, never renamed.
type Speech struct {
	// GreetingLatencySeconds is from the answer to the start of the
	// answering side's first speech (the protocol's Saludo: the
	// receptionist identifies themselves at once); nil when that side
	// never speaks.
	GreetingLatencySeconds *float64 `json:"greeting_latency_seconds"`
	// CallerFirstSeconds is the same for the caller.
	CallerFirstSeconds *float64 `json:"caller_first_seconds"`
	// TalkSeconds is the speech of each side.
	TalkSeconds SideSeconds `json:"talk_seconds"`
	// SilenceSeconds is the time both sides were silent, OvertalkSeconds
	// the time both spoke at once, over AnalysedSeconds of audio.
	SilenceSeconds  float64 `json:"silence_seconds"`
	OvertalkSeconds float64 `json:"overtalk_seconds"`
	AnalysedSeconds float64 `json:"analysed_seconds"`
	// LongestSilenceSeconds is the longest time both were silent (dead
	// air) after the first speech, starting LongestSilenceAtSeconds.
	LongestSilenceSeconds   float64 `json:"longest_silence_seconds"`
	LongestSilenceAtSeconds float64 `json:"longest_silence_at_seconds"`
	// Segments are the first turns of speech of either side, in order of
	// start (at most MaxSpeechSegments; SegmentsTruncated says more were
	// found).
	Segments          []SpeechSegment `json:"segments"`
	SegmentsTruncated bool            `json:"segments_truncated,omitempty"`
}

// MaxSpeechSegments bounds the turns kept in a record.
const MaxSpeechSegments = 64

// SideSeconds is a figure per side of the leg.
type SideSeconds struct {
	Caller float64 `json:"caller"`
	Callee float64 `json:"callee"`
}

// SpeechSegment is one stretch of speech of one side.
type SpeechSegment struct {
	// Side is "caller" or "callee".
	Side         string  `json:"side"`
	StartSeconds float64 `json:"start_seconds"`
	EndSeconds   float64 `json:"end_seconds"`
}

// Quality is the RTP quality of an answered leg per direction (issue 13).
type Quality struct {
	// Caller is the audio the caller sent (the recording's left channel),
	// Callee the audio the answering side sent.
	Caller *StreamQuality `json:"caller"`
	Callee *StreamQuality `json:"callee"`
	// OneWayAudio is set when one direction carried no audio for the
	// whole call while the other did.
	OneWayAudio bool `json:"one_way_audio"`
	// HoldSeconds is the time on hold: from the re-INVITEs' direction
	// (sendonly, inactive; RFC 3264 §8.4) and, beside it, from the audio
	// (the held side sends nothing or silence).
	HoldSeconds      float64 `json:"hold_seconds"`
	HoldAudioSeconds float64 `json:"hold_audio_seconds"`
}

// StreamQuality is one direction's figures.
type StreamQuality struct {
	// JitterMeanMs and JitterMaxMs are the RFC 3550 §6.4.1 interarrival
	// jitter estimate (16-sample smoothing) in milliseconds, averaged over
	// the packets and at its highest.
	JitterMeanMs float64 `json:"jitter_mean_ms"`
	JitterMaxMs  float64 `json:"jitter_max_ms"`
	// LossPercent is lost / expected (RFC 3550 A.3).
	LossPercent float64 `json:"loss_percent"`
	Late        int     `json:"late"`
	Duplicates  int     `json:"duplicates"`
	// RFactor and MOS are the ITU-T G.107 E-model's estimate from the
	// codec, the loss and the delay variation seen at the tap.
	RFactor float64 `json:"r_factor"`
	MOS     float64 `json:"mos"`
}
