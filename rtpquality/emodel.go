package rtpquality

import "math"

// Codec is what the E-model needs of a codec: its equipment impairment Ie
// and its packet-loss robustness Bpl (ITU-T G.113 Appendix I).
type Codec struct {
	Ie, Bpl float64
}

// G.113 Appendix I (Table I.3) values for G.711. The tap estimates what the
// listener hears, and the phones and gateways that receive this audio
// conceal loss (G.711 Appendix I PLC is in every current IP phone and PBX);
// G711NoPLC is for a receiver known to play gaps as silence.
var (
	G711      = Codec{Ie: 0, Bpl: 25.1}
	G711NoPLC = Codec{Ie: 0, Bpl: 4.3}
)

// DefaultBaseDelayMs is the one-way delay assumed besides the jitter. A
// passive tap sees neither the mouth-to-ear delay nor the endpoints'
// buffers; on a LAN nearly all of it is the endpoints': 20 ms of
// packetization and a 40 ms jitter buffer, a common nominal size. It is
// an assumption; below 100 ms it moves R by under 3 points (Id). See
// OneWayDelayMs.
const DefaultBaseDelayMs = 60.0

// OneWayDelayMs is the delay the E-model is given: the fixed base plus the
// measured jitter, as an adaptive jitter buffer grows by about the jitter
// it absorbs. This is an assumption, not a measurement.
func OneWayDelayMs(baseMs, jitterMs float64) float64 {
	if !(jitterMs > 0) {
		jitterMs = 0
	}
	if !(baseMs > 0) {
		baseMs = 0
	}
	return baseMs + jitterMs
}

// Default parameter values of ITU-T G.107 (06/2015) Table 1. The E-model is
// computed with all of them but the delays, the codec and the loss.
const (
	defSLR  = 8.0   // send loudness rating, dB
	defRLR  = 2.0   // receive loudness rating, dB
	defSTMR = 15.0  // sidetone masking rating, dB
	defLSTR = 18.0  // listener sidetone rating, dB
	defDs   = 3.0   // D-value of the telephone, send side
	defTELR = 65.0  // talker echo loudness rating, dB
	defWEPL = 110.0 // weighted echo path loss, dB
	defQdu  = 1.0   // quantizing distortion units
	defNc   = -70.0 // circuit noise referred to the 0 dBr point, dBm0p
	defNfor = -64.0 // noise floor at the receive side, dBmp
	defPs   = 35.0  // room noise at the send side, dB(A)
	defPr   = 35.0  // room noise at the receive side, dB(A)
	defA    = 0.0   // advantage factor: a wired call gives none
)

// EModel is the input of one direction's estimate.
type EModel struct {
	Codec Codec
	// LossPercent is the packet-loss probability Ppl, in percent, of
	// random loss (BurstR = 1: a tap cannot tell bursts it does not see
	// the receiver's buffer for).
	LossPercent float64
	// DelayMs is the one-way delay T, also taken as the absolute delay
	// Ta, with the round trip of the listener echo Tr = 2T: the usual
	// reading of a single delay for a 4-wire path without echo data.
	DelayMs float64
}

// R is the transmission rating of G.107 eq. (7-1):
// R = Ro − Is − Id − Ie,eff + A.
func (m EModel) R() float64 {
	ro, no := basicSNR()
	t := clampDelay(m.DelayMs)
	is := simultaneousImpairment(ro, no, t)
	id := delayImpairment(ro, no, t)
	return ro - is - id - m.ieEff() + defA
}

// MOS is the estimated conversational mean opinion score from R.
func (m EModel) MOS() float64 { return MOSFromR(m.R()) }

// MOSFromR is G.107 Annex B eq. (B-4): MOS = 1 for R < 0, 4.5 for R > 100,
// else 1 + 0.035 R + R (R − 60)(100 − R)·7·10⁻⁶. The cubic dips below 1
// for 0 < R < 6.5; the MOS scale starts at 1 (ITU-T P.800), so it is held
// there.
func MOSFromR(r float64) float64 {
	switch {
	case !(r > 0): // also NaN
		return 1
	case r >= 100:
		return 4.5
	}
	return max(1, 1+0.035*r+r*(r-60)*(100-r)*7e-6)
}

// ieEff is eq. (7-29): Ie,eff = Ie + (95 − Ie)·Ppl/(Ppl/BurstR + Bpl).
func (m EModel) ieEff() float64 {
	ppl := m.LossPercent
	if !(ppl > 0) {
		ppl = 0
	}
	if ppl > 100 {
		ppl = 100
	}
	ie, bpl := m.Codec.Ie, m.Codec.Bpl
	if !(bpl > 0) {
		bpl = G711.Bpl
	}
	const burstR = 1
	return ie + (95-ie)*ppl/(ppl/burstR+bpl)
}

// clampDelay keeps T in what the model is defined for (G.107 §7.4 gives
// it up to 1000 ms and beyond; a day is far past any of it).
func clampDelay(t float64) float64 {
	switch {
	case !(t > 0):
		return 0
	case t > 86_400_000:
		return 86_400_000
	}
	return t
}

// basicSNR is eqs. (7-3) to (7-8): Ro = 15 − 1.5(SLR + No), with No the
// power sum of the circuit noise Nc, the room noise at the send side Nos,
// at the receive side Nor, and the noise floor Nfo.
func basicSNR() (ro, no float64) {
	olr := defSLR + defRLR
	nos := defPs - defSLR - defDs - 100 + 0.004*sq(defPs-olr-defDs-14)
	pre := defPr + 10*math.Log10(1+math.Pow(10, (10-defLSTR)/10))
	nor := defRLR - 121 + pre + 0.008*sq(pre-35)
	nfo := defNfor + defRLR
	no = 10 * math.Log10(math.Pow(10, defNc/10)+math.Pow(10, nos/10)+math.Pow(10, nor/10)+math.Pow(10, nfo/10))
	return 15 - 1.5*(defSLR+no), no
}

// simultaneousImpairment is eqs. (7-9) to (7-18): Is = Iolr + Ist + Iq,
// at the one-way delay t (the talker echo enters the sidetone, eq. 7-13).
func simultaneousImpairment(ro, no, t float64) float64 {
	olr := defSLR + defRLR
	xolr := olr + 0.2*(64+no-defRLR)
	iolr := 20 * (math.Pow(1+math.Pow(xolr/8, 8), 1.0/8) - xolr/8)
	stmro := -10 * math.Log10(math.Pow(10, -defSTMR/10)+math.Exp(-t/4)*math.Pow(10, -defTELR/10))
	ist := 12*math.Pow(1+math.Pow((stmro-13)/6, 8), 1.0/8) -
		28*math.Pow(1+math.Pow((stmro+1)/19.4, 35), 1.0/35) -
		13*math.Pow(1+math.Pow((stmro-3)/33, 13), 1.0/13) + 29
	q := 37 - 15*math.Log10(defQdu)
	g := 1.07 + 0.258*q + 0.0602*q*q
	y := (ro-100)/15 + 46/8.4 - g/9
	z := 46/30.0 - g/40
	iq := 15 * math.Log10(1+math.Pow(10, y)+math.Pow(10, z))
	return iolr + ist + iq
}

// delayImpairment is eqs. (7-19) to (7-28): Id = Idte + Idle + Idd, with
// T = Ta = t and Tr = 2t.
func delayImpairment(ro, no, t float64) float64 {
	ta, tr := t, 2*t
	// Talker echo.
	roe := -1.5 * (no - defRLR)
	terv := defTELR - 40*math.Log10((1+t/10)/(1+t/150)) + 6*math.Exp(-0.3*t*t)
	re := 80 + 2.5*(terv-14)
	idte := ((roe-re)/2 + math.Sqrt(sq(roe-re)/4+100) - 1) * (1 - math.Exp(-t))
	// Listener echo.
	rle := 10.5 * (defWEPL + 7) * math.Pow(tr+1, -0.25)
	idle := (ro-rle)/2 + math.Sqrt(sq(ro-rle)/4+169)
	// Absolute delay (mT = 100 ms, sT = 1: the defaults).
	idd := 0.0
	if ta > 100 {
		x := math.Log10(ta/100) / math.Log10(2)
		idd = 25 * (math.Pow(1+math.Pow(x, 6), 1.0/6) - 3*math.Pow(1+math.Pow(x/3, 6), 1.0/6) + 2)
	}
	return idte + idle + idd
}

func sq(x float64) float64 { return x * x }
