package demo

import (
	"math"
	"math/rand/v2"
	"strings"

	"github.com/haveyoursay/haveyoursay/phonesim"
)

// sampleRate is Twilio's: recordings are 8 kHz, 16-bit, mono PCM WAV.
const sampleRate = 8000

// voiceWAV makes a short WAV that sounds a little like someone talking
// (a hum that rises and falls in syllables, with pauses between words),
// long enough to say transcript at an easy pace. No speech synthesiser is
// needed: staff only need something real to play in the dashboard.
func voiceWAV(transcript string, rng *rand.Rand) []byte {
	words := len(strings.Fields(transcript))
	seconds := min(max(float64(words)/2.2+1, 2), 20)
	n := int(seconds * sampleRate)
	pcm := make([]int16, n)
	pitch := 110 + rng.Float64()*110 // a low or a higher voice
	syllable := 0.18 + rng.Float64()*0.08
	phase := 0.0
	for i := range n {
		t := float64(i) / sampleRate
		// A pause of about a third of a second now and then, between words.
		word := int(t / (syllable * 3))
		if (word*7+int(pitch))%5 == 0 || t < 0.3 || t > seconds-0.3 {
			continue
		}
		env := math.Sin(math.Pi * math.Mod(t, syllable) / syllable)
		f := pitch * (1 + 0.12*math.Sin(2*math.Pi*0.7*t+float64(word)))
		phase += 2 * math.Pi * f / sampleRate
		v := 0.55*math.Sin(phase) + 0.25*math.Sin(2*phase) + 0.12*math.Sin(3*phase) + 0.02*(rng.Float64()*2-1)
		pcm[i] = int16(v * env * 9000)
	}
	return phonesim.PCMWAV(pcm, sampleRate)
}
