package audio

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-audio/wav"
	"github.com/hajimehoshi/go-mp3"
)

// Shortest and longest prompt accepted: shorter is a click or a mistake,
// longer is too much to hold in mind in one go. Over LongDuration a
// prompt is accepted with a warning.
const (
	MinDuration  = 300 * time.Millisecond
	LongDuration = 30 * time.Second
	MaxDuration  = 120 * time.Second
	// MaxBytes is the largest file accepted (two minutes of 16-bit 44.1 kHz
	// stereo WAV is about 21 MB).
	MaxBytes = 24 << 20
)

// Levels below which a recording is refused as silent: nothing in it is
// louder than about a whisper far from the phone.
const (
	silentPeakDB = -40.0
	silentRMSDB  = -60.0
	// clipWarn is the share of samples at full scale above which a
	// recording is reported as distorted.
	clipWarn = 0.001
)

// ErrInvalid is wrapped by every reason a file is refused; the message is a
// plain sentence for whoever uploaded it.
var ErrInvalid = errors.New("this audio file cannot be used")

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// Info is what Check learned about a file by decoding it.
type Info struct {
	Format      string // "wav" or "mp3"
	Encoding    string // e.g. "16-bit PCM", "mu-law", "MP3"
	ContentType string // what /audio serves it as
	Duration    time.Duration
	SampleRate  int
	Channels    int
	PeakDB      float64  // loudest sample, in dB below full scale (0 is the loudest possible)
	RMSDB       float64  // average loudness, in dB below full scale
	Clipped     float64  // share of samples at full scale (0 to 1)
	Warnings    []string // plain sentences: accepted, but worth a look
}

// Summary is one line about the file for a person: format, length, levels.
func (i Info) Summary() string {
	return fmt.Sprintf("%s (%s), %.1f seconds, peak %.1f dB, average %.1f dB, clipped %.2f%%",
		strings.ToUpper(i.Format), i.Encoding, i.Duration.Seconds(), i.PeakDB, i.RMSDB, 100*i.Clipped)
}

// Check decodes an audio file for Twilio's <Play> and measures it: a WAV
// (8- or 16-bit PCM, mu-law or A-law) or an MP3, between MinDuration and
// MaxDuration long, complete, and not silent. Anything else is refused
// with an error that wraps ErrInvalid and names the problem in a plain
// sentence.
func Check(data []byte) (Info, error) {
	if len(data) == 0 {
		return Info{}, invalid("the file is empty")
	}
	if len(data) > MaxBytes {
		return Info{}, invalid("it is larger than %d MB", MaxBytes>>20)
	}
	var (
		info    Info
		samples []float64
		err     error
	)
	switch {
	case len(data) >= 4 && string(data[:4]) == "RIFF":
		if len(data) < 12 || string(data[8:12]) != "WAVE" {
			return Info{}, invalid("it is a RIFF file but not a WAV sound file, or its start is cut off")
		}
		info, samples, err = decodeWAV(data)
	default:
		if what := otherFormat(data); what != "" {
			return Info{}, invalid("it is %s, not a WAV or MP3 sound file", what)
		}
		info, samples, err = decodeMP3(data)
	}
	if err != nil {
		return Info{}, err
	}
	if info.Duration < MinDuration {
		return Info{}, invalid("it is too short (%.1f seconds; at least %.1f)", info.Duration.Seconds(), MinDuration.Seconds())
	}
	if info.Duration > MaxDuration {
		return Info{}, invalid("it is too long (%.0f seconds; at most %.0f)", info.Duration.Seconds(), MaxDuration.Seconds())
	}
	measure(&info, samples)
	if info.PeakDB < silentPeakDB || info.RMSDB < silentRMSDB {
		return Info{}, invalid("it is silent or almost silent (its loudest moment is %.0f dB): nothing was heard", info.PeakDB)
	}
	if info.Duration > LongDuration {
		info.Warnings = append(info.Warnings, fmt.Sprintf("It is %.0f seconds long. Callers find prompts under %.0f seconds easier to follow.",
			info.Duration.Seconds(), LongDuration.Seconds()))
	}
	if info.Clipped > clipWarn {
		info.Warnings = append(info.Warnings, fmt.Sprintf("It is too loud in places (%.1f%% of it is clipped), so it may sound harsh. Try recording a little further from the microphone.",
			100*info.Clipped))
	}
	return info, nil
}

// otherFormat names a kind of file that is plainly not WAV or MP3, or
// returns "".
func otherFormat(b []byte) string {
	head := b[:min(len(b), 512)]
	switch {
	case bytes.HasPrefix(b, []byte("OggS")):
		return "an Ogg file"
	case bytes.HasPrefix(b, []byte("fLaC")):
		return "a FLAC file"
	case len(b) >= 8 && string(b[4:8]) == "ftyp":
		return "an MP4 or M4A file"
	case bytes.HasPrefix(b, []byte("%PDF")):
		return "a PDF document"
	case bytes.HasPrefix(b, []byte("PK\x03\x04")):
		return "a zip or office document"
	case bytes.HasPrefix(b, []byte("\x1aE\xdf\xa3")):
		return "a WebM file"
	case id3Size(b) == 0 && utf8.Valid(head) && !bytes.ContainsFunc(head, func(r rune) bool {
		return r < 0x20 && r != '\n' && r != '\r' && r != '\t'
	}):
		return "a text file (perhaps renamed)"
	}
	return ""
}

// WAV encodings (the fmt chunk's format tag).
const (
	wavPCM        = 1
	wavALaw       = 6
	wavMuLaw      = 7
	wavExtensible = 0xFFFE
)

func decodeWAV(data []byte) (Info, []float64, error) {
	d := wav.NewDecoder(bytes.NewReader(data))
	d.ReadInfo()
	if d.Err() != nil || d.NumChans == 0 || d.BitDepth == 0 || d.SampleRate == 0 {
		return Info{}, nil, invalid("its WAV header is damaged or cut off")
	}
	info := Info{Format: "wav", ContentType: "audio/wav", SampleRate: int(d.SampleRate), Channels: int(d.NumChans)}
	var decode func(int) float64
	switch {
	case (d.WavAudioFormat == wavPCM || d.WavAudioFormat == wavExtensible) && d.BitDepth == 16:
		info.Encoding, decode = "16-bit PCM", func(v int) float64 { return float64(v) / 32768 }
	case (d.WavAudioFormat == wavPCM || d.WavAudioFormat == wavExtensible) && d.BitDepth == 8:
		info.Encoding, decode = "8-bit PCM", func(v int) float64 { return float64(v-128) / 128 }
	case d.WavAudioFormat == wavMuLaw && d.BitDepth == 8:
		info.Encoding, decode = "mu-law", func(v int) float64 { return muLaw[byte(v)] }
	case d.WavAudioFormat == wavALaw && d.BitDepth == 8:
		info.Encoding, decode = "A-law", func(v int) float64 { return aLaw[byte(v)] }
	case d.WavAudioFormat == wavPCM || d.WavAudioFormat == wavExtensible:
		return Info{}, nil, invalid("it uses %d-bit samples; please save it as 16-bit PCM WAV or MP3", d.BitDepth)
	default:
		return Info{}, nil, invalid("its WAV encoding (number %d) is not PCM, mu-law or A-law; please save it as 16-bit PCM WAV or MP3", d.WavAudioFormat)
	}
	if d.NumChans > 2 || d.SampleRate < 8000 || d.SampleRate > 48000 {
		return Info{}, nil, invalid("its WAV settings (%d channels, %d Hz) are not ones a phone can play; use mono, 8000 to 48000 Hz", d.NumChans, d.SampleRate)
	}
	buf, err := d.FullPCMBuffer()
	if err != nil || d.PCMChunk == nil {
		return Info{}, nil, invalid("it is not a complete WAV file: it has no sound data")
	}
	bytesPer := int(d.BitDepth) / 8
	got := len(buf.Data) * bytesPer
	// A declared size of 0 or "all ones" comes from a writer that streamed
	// and never filled it in: the sound runs to the end of the file.
	declared := d.PCMSize
	if declared != 0 && uint32(declared) < 0xFFFFFFF0 && got+bytesPer < declared-1 {
		rate := float64(int(d.SampleRate) * int(d.NumChans) * bytesPer)
		return Info{}, nil, invalid("it is cut off: it ends after %.1f seconds of the %.1f it says it has", float64(got)/rate, float64(declared)/rate)
	}
	samples := make([]float64, len(buf.Data))
	for i, v := range buf.Data {
		samples[i] = decode(v)
	}
	info.Duration = time.Duration(float64(len(samples)) / float64(int(d.SampleRate)*int(d.NumChans)) * float64(time.Second))
	return info, samples, nil
}

// G.711 tables: each 8-bit code as a sample from -1 to 1.
var muLaw, aLaw [256]float64

func init() {
	for i := range 256 {
		// mu-law: bits are inverted; sign, 3-bit exponent, 4-bit mantissa.
		u := ^byte(i)
		exp, mant := int(u>>4)&7, int(u&0x0F)
		v := ((mant<<3)+0x84)<<exp - 0x84
		if u&0x80 != 0 {
			v = -v
		}
		muLaw[i] = float64(v) / 32768
		// A-law: even bits are inverted.
		a := byte(i) ^ 0x55
		exp, mant = int(a>>4)&7, int(a&0x0F)
		w := mant<<4 + 8
		if exp > 0 {
			w = (w + 0x100) << (exp - 1)
		}
		if a&0x80 == 0 {
			w = -w
		}
		aLaw[i] = float64(w) / 32768
	}
}

func decodeMP3(data []byte) (Info, []float64, error) {
	d, err := mp3.NewDecoder(bytes.NewReader(data))
	if err != nil {
		return Info{}, nil, invalid("it is not a WAV or MP3 sound file that we can read")
	}
	info := Info{Format: "mp3", Encoding: "MP3", ContentType: "audio/mpeg", SampleRate: d.SampleRate(), Channels: 2}
	// go-mp3 gives 16-bit stereo; stop reading once it is plainly too long.
	limit := int(float64(d.SampleRate())*4*(MaxDuration+2*time.Second).Seconds()) + 4
	pcm, err := io.ReadAll(io.LimitReader(d, int64(limit)))
	if err != nil {
		return Info{}, nil, invalid("its MP3 sound is damaged and cannot be decoded")
	}
	if len(pcm) < 4*1152*2 {
		return Info{}, nil, invalid("it is not an MP3 sound file that we can read (too little sound in it)")
	}
	if cutMP3(data) {
		return Info{}, nil, invalid("it is cut off: the MP3 file ends in the middle of its sound")
	}
	samples := make([]float64, len(pcm)/2)
	for i := range samples {
		samples[i] = float64(int16(uint16(pcm[2*i])|uint16(pcm[2*i+1])<<8)) / 32768
	}
	info.Duration = time.Duration(float64(len(samples)/2) / float64(d.SampleRate()) * float64(time.Second))
	return info, samples, nil
}

// measure sets the levels of info from samples between -1 and 1.
func measure(info *Info, samples []float64) {
	var peak, sum float64
	clipped := 0
	for _, s := range samples {
		a := math.Abs(s)
		peak = max(peak, a)
		sum += s * s
		if a >= 0.999 {
			clipped++
		}
	}
	db := func(v float64) float64 {
		if v <= 0 {
			return -120
		}
		return math.Max(-120, 20*math.Log10(v))
	}
	info.PeakDB = db(peak)
	if len(samples) > 0 {
		info.RMSDB = db(math.Sqrt(sum / float64(len(samples))))
		info.Clipped = float64(clipped) / float64(len(samples))
	} else {
		info.RMSDB = -120
	}
}

var (
	mp3Bitrates = [2][16]int{ // kbit/s, layer III: MPEG-1, then MPEG-2 and 2.5
		{0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, -1},
		{0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160, -1},
	}
	mp3Rates = map[byte][3]int{3: {44100, 48000, 32000}, 2: {22050, 24000, 16000}, 0: {11025, 12000, 8000}}
)

// mp3FrameLen reads a layer III frame header at b and returns the frame's
// length in bytes; ok is false when b does not start a frame. (The decoder
// drops a cut-off last frame silently, so cutMP3 walks the headers to see
// whether the file ends mid-frame.)
func mp3FrameLen(b []byte) (length int, ok bool) {
	if len(b) < 4 || b[0] != 0xFF || b[1]&0xE0 != 0xE0 {
		return 0, false
	}
	version := (b[1] >> 3) & 3 // 0: 2.5, 2: 2, 3: 1
	layer := (b[1] >> 1) & 3   // 1: layer III
	if version == 1 || layer != 1 {
		return 0, false
	}
	table := 1
	if version == 3 {
		table = 0
	}
	kbps := mp3Bitrates[table][b[2]>>4]
	ri := (b[2] >> 2) & 3
	if kbps <= 0 || ri == 3 {
		return 0, false
	}
	rate := mp3Rates[version][ri]
	pad := int((b[2] >> 1) & 1)
	if version == 3 {
		return 144*kbps*1000/rate + pad, true
	}
	return 72*kbps*1000/rate + pad, true
}

// id3Size is the length of an ID3v2 tag at the start of b (0 if none).
func id3Size(b []byte) int {
	if len(b) < 10 || !bytes.Equal(b[:3], []byte("ID3")) {
		return 0
	}
	n := int(b[6]&0x7F)<<21 | int(b[7]&0x7F)<<14 | int(b[8]&0x7F)<<7 | int(b[9]&0x7F)
	n += 10
	if b[5]&0x10 != 0 {
		n += 10 // footer
	}
	return n
}

// cutMP3 reports whether the frames of an MP3 run past the end of the file.
func cutMP3(b []byte) bool {
	p := id3Size(b)
	for p < len(b) {
		if _, ok := mp3FrameLen(b[p:]); ok {
			break
		}
		p++ // junk before the first frame
	}
	for p < len(b) {
		n, ok := mp3FrameLen(b[p:])
		if !ok {
			return false // a trailing tag (ID3v1 "TAG", APE) or padding
		}
		if p+n > len(b) {
			return true
		}
		p += n
	}
	return false
}
