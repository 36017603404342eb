package recorder

// Stats counts what the recorder did, for logs and metrics.
type Stats struct {
	// Legs is the number of legs with recording state.
	Legs int
	// StreamsOpen is the number of RTP flows being recorded.
	StreamsOpen int
	// StreamsTimedOut counts flows closed by StreamTimeout.
	StreamsTimedOut uint64
	// StreamsRefused counts flows not recorded (too many on one leg).
	StreamsRefused uint64
	// Matched counts datagrams that belonged to an expected stream.
	Matched uint64
	// Early counts matched datagrams before the answer (not recorded).
	Early uint64
	// Packets counts RTP packets fed to streams.
	Packets uint64
	// Lost, Late, Duplicates sum the figures of finished and open streams.
	Lost, Late, Duplicates uint64
	// BadRTP counts matched datagrams that are not RTP version 2.
	BadRTP uint64
	// RTCP counts RTCP packets multiplexed on RTP ports.
	RTCP uint64
	// BadSDP counts SDP bodies that could not be read.
	BadSDP uint64
	// OffersRefused counts in-dialog offers undone by a final failure
	// (offer.go).
	OffersRefused uint64
	// NotRecordable counts legs refused (encrypted, codec, disk floor).
	NotRecordable uint64
	// FilesWritten and PcapsWritten count files finished and durable
	// (committed); BytesWritten counts the bytes of files finished
	// (handed to the writer), durable or still waiting for the committer
	// (Commit.Waiting).
	FilesWritten, PcapsWritten, BytesWritten uint64
	// Commit describes the group commit of finished files.
	Commit CommitStats
	// Writer describes the goroutine that writes the WAV files.
	Writer WriterStats
	// Cut counts legs whose audio the disk could not take in time (the
	// writer's queue full): not promised, ReasonCommitFull.
	Cut uint64
	// WriteErrors counts files that could not be created or written.
	WriteErrors uint64
	// FloorReached says free space is below MinFreeBytes.
	FloorReached bool
	// FreeBytes is the free space seen at the last check.
	FreeBytes uint64
}

// Stats returns the counters.
func (r *Recorder) Stats() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.stats
	s.Legs = len(r.legs)
	s.FloorReached = r.floor
	s.Commit = r.com.stats()
	s.Writer = r.wr.stats()
	for _, l := range r.legs {
		for _, f := range l.flows {
			s.Lost += f.st.c.Lost
			s.Late += f.st.c.Late
			s.Duplicates += f.st.c.Duplicates
		}
	}
	return s
}
