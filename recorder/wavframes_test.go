package recorder

// frames writes n stereo frames of sample codes at once (tests build files
// by hand with it): 8-bit codes for G.711 files, 16-bit samples for PCM.
func (w *wavWriter) frames(left, right []int16) error {
	var c chunk
	for i := range left {
		if c.full() {
			if err := w.write(&c, false); err != nil {
				return err
			}
			c.release(nil)
		}
		b := c.room(nil)
		if w.fmt.bits == 8 {
			b[0], b[1] = byte(left[i]), byte(right[i])
		} else {
			b[0], b[1], b[2], b[3] = byte(left[i]), byte(uint16(left[i])>>8), byte(right[i]), byte(uint16(right[i])>>8)
		}
		c.n += int(w.fmt.blockAlign)
	}
	return w.write(&c, false)
}

// fill sets every sample of b to v.
func fill(b []int16, v int16) {
	for i := range b {
		b[i] = v
	}
}
