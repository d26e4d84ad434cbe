package audio

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// Shortest and longest prompt accepted: shorter is a click or a mistake,
// longer is too much to hold in mind in one go.
const (
	MinDuration = 300 * time.Millisecond
	MaxDuration = 120 * time.Second
	// MaxBytes is the largest file accepted (two minutes of 16-bit 44.1 kHz
	// stereo WAV is about 21 MB).
	MaxBytes = 24 << 20
)

// ErrInvalid is wrapped by every reason a file is refused; the message is a
// plain sentence for whoever uploaded it.
var ErrInvalid = errors.New("this audio file cannot be used")

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// Info is what Check learned about a file.
type Info struct {
	Format      string // "wav" or "mp3"
	ContentType string // what /audio serves it as
	Duration    time.Duration
}

// Check validates an audio file for Twilio's <Play>: a WAV (PCM, A-law or
// mu-law) or an MP3 (MPEG layer III), between MinDuration and MaxDuration
// long, and, for PCM WAV, not silent.
func Check(data []byte) (Info, error) {
	if len(data) > MaxBytes {
		return Info{}, invalid("it is larger than %d MB", MaxBytes>>20)
	}
	var info Info
	var err error
	switch {
	case len(data) >= 12 && string(data[0:4]) == "RIFF" && string(data[8:12]) == "WAVE":
		info, err = checkWAV(data)
	case looksLikeMP3(data):
		info, err = checkMP3(data)
	default:
		return Info{}, invalid("it is not a WAV or MP3 file")
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
	return info, nil
}

func checkWAV(b []byte) (Info, error) {
	var (
		format, channels, bits uint16
		rate, byteRate         uint32
		haveFmt                bool
		samples                []byte
		haveData               bool
	)
	for p := 12; p+8 <= len(b); {
		id := string(b[p : p+4])
		size := int(binary.LittleEndian.Uint32(b[p+4 : p+8]))
		body := b[p+8:]
		if size < 0 || size > len(body) {
			size = len(body) // a writer that streamed and never filled in the size
		}
		body = body[:size]
		switch id {
		case "fmt ":
			if size < 16 {
				return Info{}, invalid("its WAV format block is damaged")
			}
			format = binary.LittleEndian.Uint16(body[0:])
			channels = binary.LittleEndian.Uint16(body[2:])
			rate = binary.LittleEndian.Uint32(body[4:])
			byteRate = binary.LittleEndian.Uint32(body[8:])
			bits = binary.LittleEndian.Uint16(body[14:])
			if format == 0xFFFE && size >= 26 { // WAVE_FORMAT_EXTENSIBLE: the real format is in the GUID
				format = binary.LittleEndian.Uint16(body[24:])
			}
			haveFmt = true
		case "data":
			samples, haveData = body, true
		}
		p += 8 + size + size%2
	}
	switch {
	case !haveFmt || !haveData:
		return Info{}, invalid("it is not a complete WAV file")
	case format != 1 && format != 6 && format != 7:
		return Info{}, invalid("its WAV encoding is not PCM, A-law or mu-law")
	case channels == 0 || channels > 2 || rate < 8000 || rate > 48000 || byteRate == 0:
		return Info{}, invalid("its WAV settings are not ones a phone can play (use mono, 8000 to 48000 Hz)")
	}
	info := Info{Format: "wav", ContentType: "audio/wav",
		Duration: time.Duration(float64(len(samples)) / float64(byteRate) * float64(time.Second))}
	if format == 1 && silent(samples, bits) {
		return Info{}, invalid("it is silent: nothing was recorded")
	}
	return info, nil
}

// silent reports whether PCM samples never rise above about -50 dBFS.
func silent(samples []byte, bits uint16) bool {
	switch bits {
	case 8:
		for _, s := range samples {
			if d := int(s) - 128; d > 1 || d < -1 {
				return false
			}
		}
		return true
	case 16:
		for i := 0; i+1 < len(samples); i += 2 {
			s := int16(binary.LittleEndian.Uint16(samples[i:]))
			if s > 100 || s < -100 {
				return false
			}
		}
		return true
	}
	return false // other depths: not checked
}

var (
	mp3Bitrates = [2][16]int{ // kbit/s, layer III: MPEG-1, then MPEG-2 and 2.5
		{0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, -1},
		{0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160, -1},
	}
	mp3Rates = map[byte][3]int{3: {44100, 48000, 32000}, 2: {22050, 24000, 16000}, 0: {11025, 12000, 8000}}
)

// mp3Frame decodes a layer III frame header at b and returns the frame's
// length in bytes, its samples and sample rate; ok is false when b does not
// start a frame.
func mp3Frame(b []byte) (length, samples, rate int, ok bool) {
	if len(b) < 4 || b[0] != 0xFF || b[1]&0xE0 != 0xE0 {
		return 0, 0, 0, false
	}
	version := (b[1] >> 3) & 3 // 0: 2.5, 2: 2, 3: 1
	layer := (b[1] >> 1) & 3   // 1: layer III
	if version == 1 || layer != 1 {
		return 0, 0, 0, false
	}
	table := 1
	if version == 3 {
		table = 0
	}
	kbps := mp3Bitrates[table][b[2]>>4]
	ri := (b[2] >> 2) & 3
	if kbps <= 0 || ri == 3 {
		return 0, 0, 0, false
	}
	rate = mp3Rates[version][ri]
	pad := int((b[2] >> 1) & 1)
	if version == 3 {
		return 144*kbps*1000/rate + pad, 1152, rate, true
	}
	return 72*kbps*1000/rate + pad, 576, rate, true
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

func looksLikeMP3(b []byte) bool {
	p := id3Size(b)
	if p >= len(b) {
		return p > 0
	}
	_, _, _, ok := mp3Frame(b[p:])
	return ok || p > 0
}

func checkMP3(b []byte) (Info, error) {
	p := id3Size(b)
	if p > len(b) {
		return Info{}, invalid("its MP3 tag is damaged")
	}
	frames, samples, rate := 0, 0, 0
	for p < len(b) {
		n, s, r, ok := mp3Frame(b[p:])
		if !ok {
			break // trailing tag (ID3v1 "TAG") or junk
		}
		if p+n > len(b) {
			break // a cut-off last frame is still playable
		}
		frames++
		samples += s
		rate = r
		p += n
	}
	if frames < 2 {
		return Info{}, invalid("it is not an MP3 file a phone can play (MPEG layer III)")
	}
	return Info{Format: "mp3", ContentType: "audio/mpeg",
		Duration: time.Duration(float64(samples) / float64(rate) * float64(time.Second))}, nil
}
