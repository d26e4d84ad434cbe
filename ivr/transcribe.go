package ivr

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
)

// Transcriber turns a recording into text.
type Transcriber interface {
	Transcribe(ctx context.Context, audio []byte, contentType, language string) (string, error)
}

// OpenAITranscriber speaks the OpenAI audio transcription API
// (POST /v1/audio/transcriptions), which self-hosted Whisper servers speak
// too.
type OpenAITranscriber struct {
	URL    string // the service's base URL, or the full transcriptions URL
	Model  string // default "whisper-1"
	APIKey string // sent as a bearer token when set
	HTTP   *http.Client
}

// Transcribe sends the audio and returns the text.
func (t *OpenAITranscriber) Transcribe(ctx context.Context, audio []byte, contentType, language string) (string, error) {
	endpoint := strings.TrimRight(t.URL, "/")
	if !strings.HasSuffix(endpoint, "/audio/transcriptions") {
		endpoint += "/v1/audio/transcriptions"
	}
	model := t.Model
	if model == "" {
		model = "whisper-1"
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	ext := ".wav"
	if strings.Contains(contentType, "mpeg") {
		ext = ".mp3"
	}
	fw, err := mw.CreateFormFile("file", "recording"+ext)
	if err != nil {
		return "", err
	}
	fw.Write(audio)
	mw.WriteField("model", model)
	mw.WriteField("response_format", "json")
	if lang := strings.ToLower(strings.SplitN(language, "-", 2)[0]); len(lang) == 2 {
		mw.WriteField("language", lang) // ISO 639-1, as the API asks
	}
	mw.Close()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, &body)
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	if t.APIKey != "" {
		req.Header.Set("Authorization", "Bearer "+t.APIKey)
	}
	client := t.HTTP
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("transcription service answered %d: %.200s", resp.StatusCode, b)
	}
	var out struct {
		Text string `json:"text"`
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return "", fmt.Errorf("transcription service answered something that is not JSON: %w", err)
	}
	return strings.TrimSpace(out.Text), nil
}
