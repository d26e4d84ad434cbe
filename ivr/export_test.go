package ivr

import "encoding/json"

// OpenState returns the JSON inside a sealed st value, for tests that show
// or change the state a call carries.
func OpenState(h *Handler, v string) ([]byte, error) {
	st, err := h.open(v)
	if err != nil {
		return nil, err
	}
	return json.Marshal(st)
}

// SealState seals a call state given as JSON, as the handler does.
func SealState(h *Handler, plain []byte) (string, error) {
	var st callState
	if err := json.Unmarshal(plain, &st); err != nil {
		return "", err
	}
	return h.seal(st), nil
}
