package phonesim

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
)

// MaxWAVBytes bounds a caller's own recording (RecordWAV): about ten
// minutes of Twilio's 8 kHz 16-bit mono audio.
const MaxWAVBytes = 10 << 20

// RecordWAV is Record with the caller's own voice: the recording URL serves
// wav (a PCM WAV file, as Twilio's recordings are) instead of a generated
// tone, and the recording's length is the file's. transcript is the text the
// transcription returns. A file with no samples is an empty recording: the
// action is skipped and the call continues with the next verb.
func (c *Call) RecordWAV(wav []byte, transcript string) error {
	if len(wav) > MaxWAVBytes {
		return fmt.Errorf("phonesim: the recording is %d bytes; at most %d are kept", len(wav), MaxWAVBytes)
	}
	d, err := WAVDuration(wav)
	if err != nil {
		return err
	}
	// Twilio reports whole seconds; any sound at all is at least one.
	seconds := int(math.Ceil(d.Seconds()))
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.input(WaitRecord); err != nil {
		return err
	}
	c.event(Event{Kind: "input", Text: fmt.Sprintf("record %ds (own audio): %s", seconds, transcript)})
	c.audio = bytes.Clone(wav)
	return c.recordDone(context.Background(), seconds, transcript, finishKey(c.record.FinishOnKey))
}

// finishKey is the key a caller presses to end a recording, as Record does:
// "#" if it is one, else the first of finishOnKey, else none (time-out).
func finishKey(finishOnKey string) string {
	if strings.Contains(finishOnKey, "#") {
		return "#"
	}
	if finishOnKey != "" {
		return finishOnKey[:1]
	}
	return ""
}

// ErrNotWAV is returned for audio that is not a PCM WAV file.
var ErrNotWAV = errors.New("phonesim: not a PCM WAV file")

// WAVDuration returns the length of a PCM WAV file (RIFF, "fmt " and
// "data" chunks), as Twilio's recordings are.
func WAVDuration(b []byte) (time.Duration, error) {
	if len(b) < 12 || string(b[0:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return 0, ErrNotWAV
	}
	var byteRate uint32
	for off := 12; off+8 <= len(b); {
		id := string(b[off : off+4])
		size := int(binary.LittleEndian.Uint32(b[off+4 : off+8]))
		body := off + 8
		if size < 0 || size > len(b)-body {
			// Streaming writers leave the size unset: the chunk runs to the end.
			size = len(b) - body
		}
		switch id {
		case "fmt ":
			if size < 16 {
				return 0, fmt.Errorf("%w: short fmt chunk", ErrNotWAV)
			}
			if format := binary.LittleEndian.Uint16(b[body:]); format != 1 && format != 0xFFFE {
				return 0, fmt.Errorf("%w: audio format %d is not PCM", ErrNotWAV, format)
			}
			byteRate = binary.LittleEndian.Uint32(b[body+8:])
		case "data":
			if byteRate == 0 {
				return 0, fmt.Errorf("%w: no fmt chunk before the data", ErrNotWAV)
			}
			return time.Duration(float64(size) / float64(byteRate) * float64(time.Second)), nil
		}
		off = body + size + size%2 // chunks are padded to an even length
	}
	return 0, fmt.Errorf("%w: no data chunk", ErrNotWAV)
}
