package phonesim

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"
)

// DefaultOurNumber is the number members text and call when none is given:
// one of Ofcom's numbers kept for drama, so it never reaches a real person.
const DefaultOurNumber = "+447700900000"

// MaxLoadMembers bounds LoadConfig.Members: each member has its own
// pretend number from Ofcom's 1000 drama numbers.
const MaxLoadMembers = 1000

// LoadConfig configures Load. Set Duration, Conversations, or both.
type LoadConfig struct {
	// URL is where the server listens. It must be on this machine
	// (loopback): the load test never runs against a server elsewhere.
	URL string
	// PublicURL is the server's PUBLIC_URL, which the webhook signatures
	// cover. Default: URL.
	PublicURL  string
	AccountSID string // default DefaultAccountSID
	AuthToken  string // the server's TWILIO_AUTH_TOKEN

	// Members is how many simulated members talk at once. Default 10.
	Members int
	// Duration stops new conversations starting after this long;
	// conversations under way then are finished.
	Duration time.Duration
	// Conversations stops after this many conversations in all.
	Conversations int
	// SMSShare is the share of conversations held by text (0..1); the rest
	// are phone calls. 0 means calls only.
	SMSShare float64

	Keyword  string        // SMS keyword that starts the survey; default "DAYS" (the demo survey)
	To       string        // our number; default DefaultOurNumber
	MaxSteps int           // most texts or key presses in one conversation; default 40
	Timeout  time.Duration // for one webhook request; default 15 s, as Twilio
	Seed     uint64        // for members' choices; 0: random
}

// LoadReport is what a load test measured.
type LoadReport struct {
	URL             string  `json:"url"`
	Members         int     `json:"members"`
	SMSShare        float64 `json:"sms_share"`
	ElapsedSeconds  float64 `json:"elapsed_seconds"`
	Conversations   int     `json:"conversations"`
	SMS             int     `json:"sms_conversations"`
	Calls           int     `json:"call_conversations"`
	Finished        int     `json:"finished"` // reached the survey's end
	Failed          int     `json:"failed"`   // stopped by an error or MaxSteps
	Requests        int     `json:"requests"`
	RequestsPerSec  float64 `json:"requests_per_second"`
	ConversationsPS float64 `json:"conversations_per_second"`
	// Kinds has latencies per webhook kind ("sms", "voice", "voice/gather",
	// "voice/status", "audio"...), sorted by kind.
	Kinds []KindReport `json:"kinds"`
	// Errors counts failed requests (transport errors, 4xx and 5xx) and
	// failed callbacks; Failed counts the conversations they stopped.
	Errors int `json:"errors"`
	// ErrorSamples are the first distinct error messages.
	ErrorSamples []string `json:"error_samples,omitempty"`
	// Server memory (process_resident_memory_bytes from /metrics), 0 when
	// /metrics could not be read.
	MemoryStartBytes int64 `json:"memory_start_bytes"`
	MemoryPeakBytes  int64 `json:"memory_peak_bytes"`
	MemoryEndBytes   int64 `json:"memory_end_bytes"`
}

// KindReport is the latency of one kind of webhook request.
type KindReport struct {
	Kind     string  `json:"kind"`
	Requests int     `json:"requests"`
	Errors   int     `json:"errors"` // transport errors and 4xx/5xx answers
	P50ms    float64 `json:"p50_ms"`
	P95ms    float64 `json:"p95_ms"`
	P99ms    float64 `json:"p99_ms"`
	Maxms    float64 `json:"max_ms"`
}

const maxErrorSamples = 10

// Load runs simulated members against a running server: each holds whole
// conversations with the survey one after another, by text (keyword, then
// an answer to each question) or by phone (pressing keys, recording a
// sentence), and every webhook request is timed.
func Load(ctx context.Context, cfg LoadConfig) (LoadReport, error) {
	if err := cfg.defaults(); err != nil {
		return LoadReport{}, err
	}
	st := &loadStats{kinds: map[string]*kindStats{}}
	tr := &http.Transport{
		Proxy:               nil, // the server is on this machine
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConns:        2 * cfg.Members,
		MaxIdleConnsPerHost: 2 * cfg.Members,
		IdleConnTimeout:     30 * time.Second,
	}
	defer tr.CloseIdleConnections()
	client := &http.Client{Timeout: cfg.Timeout, Transport: &timingTransport{stats: st,
		base: NewRedirectTransport(cfg.PublicURL, cfg.URL, loopbackOnly{tr})}}
	e := New(Config{AccountSID: cfg.AccountSID, AuthToken: cfg.AuthToken, WebhookBase: cfg.PublicURL,
		HTTPClient: client, CallbackDelay: 200 * time.Millisecond})
	defer e.Close()

	rep := LoadReport{URL: cfg.URL, Members: cfg.Members, SMSShare: cfg.SMSShare}
	mem := &memorySampler{client: &http.Client{Timeout: 5 * time.Second, Transport: tr}, url: strings.TrimRight(cfg.URL, "/") + "/metrics"}
	rep.MemoryStartBytes = mem.sample(ctx)
	memCtx, stopMem := context.WithCancel(ctx)
	memDone := make(chan struct{})
	go func() { defer close(memDone); mem.every(memCtx, time.Second) }()

	seed := cfg.Seed
	if seed == 0 {
		seed = rand.Uint64()
	}
	base := int(seed % MaxLoadMembers)
	var claimed atomic.Int64
	started := time.Now()
	stopAt := time.Time{}
	if cfg.Duration > 0 {
		stopAt = started.Add(cfg.Duration)
	}
	var wg sync.WaitGroup
	for i := range cfg.Members {
		m := &member{e: e, cfg: &cfg, stats: st,
			from: fmt.Sprintf("+447700900%03d", (base+i)%MaxLoadMembers),
			rnd:  rand.New(rand.NewPCG(seed, uint64(i)))}
		wg.Go(func() {
			for ctx.Err() == nil {
				if !stopAt.IsZero() && !time.Now().Before(stopAt) {
					return
				}
				if cfg.Conversations > 0 && claimed.Add(1) > int64(cfg.Conversations) {
					return
				}
				m.converse(ctx)
			}
		})
	}
	wg.Wait()
	// Recording and transcription callbacks still queued are part of the load.
	if err := e.FlushCallbacks(ctx); err != nil {
		st.fail(err)
	}
	elapsed := time.Since(started)
	stopMem()
	<-memDone
	rep.MemoryEndBytes = mem.sample(context.WithoutCancel(ctx))
	rep.MemoryPeakBytes = max(mem.peak.Load(), rep.MemoryStartBytes, rep.MemoryEndBytes)
	st.fill(&rep, elapsed)
	if err := ctx.Err(); err != nil && rep.Conversations == 0 {
		return rep, err
	}
	return rep, nil
}

func (cfg *LoadConfig) defaults() error {
	if cfg.URL == "" {
		return errors.New("phonesim: the load test needs the server's URL")
	}
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("phonesim: %q does not look like a server URL (http://127.0.0.1:8080)", cfg.URL)
	}
	if !loopback(u.Hostname()) {
		return fmt.Errorf("phonesim: the load test only runs against a server on this machine (localhost or 127.0.0.1), not %s", u.Host)
	}
	cfg.URL = strings.TrimRight(cfg.URL, "/")
	if cfg.PublicURL == "" {
		cfg.PublicURL = cfg.URL
	}
	if p, err := url.Parse(cfg.PublicURL); err != nil || p.Host == "" {
		return fmt.Errorf("phonesim: the public URL %q does not look right", cfg.PublicURL)
	}
	cfg.PublicURL = strings.TrimRight(cfg.PublicURL, "/")
	if cfg.AccountSID == "" {
		cfg.AccountSID = DefaultAccountSID
	}
	if cfg.AuthToken == "" {
		return errors.New("phonesim: the load test needs the server's auth token, to sign webhooks")
	}
	if cfg.Members == 0 {
		cfg.Members = 10
	}
	if cfg.Members < 0 || cfg.Members > MaxLoadMembers {
		return fmt.Errorf("phonesim: members must be between 1 and %d, not %d", MaxLoadMembers, cfg.Members)
	}
	if cfg.Duration <= 0 && cfg.Conversations <= 0 {
		return errors.New("phonesim: set how long the load test runs (Duration) or how many conversations it holds (Conversations)")
	}
	if cfg.SMSShare < 0 || cfg.SMSShare > 1 || math.IsNaN(cfg.SMSShare) {
		return fmt.Errorf("phonesim: the SMS share must be between 0 and 1, not %v", cfg.SMSShare)
	}
	if cfg.Keyword == "" {
		cfg.Keyword = "DAYS"
	}
	if cfg.To == "" {
		cfg.To = DefaultOurNumber
	}
	if cfg.MaxSteps <= 0 {
		cfg.MaxSteps = 40
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 15 * time.Second
	}
	return nil
}

// loopback reports whether host is this machine.
func loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// loopbackOnly refuses requests that would leave this machine: a <Play>
// of audio elsewhere, say, must not turn a load test into load on someone
// else's server.
type loopbackOnly struct{ base http.RoundTripper }

func (l loopbackOnly) RoundTrip(req *http.Request) (*http.Response, error) {
	if !loopback(req.URL.Hostname()) {
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, fmt.Errorf("phonesim: the load test only talks to this machine, so it did not fetch %s", req.URL.Redacted())
	}
	return l.base.RoundTrip(req)
}

// ---- one simulated member ----

type member struct {
	e     *Emulator
	cfg   *LoadConfig
	stats *loadStats
	from  string
	rnd   *rand.Rand
}

// sentences are what members say in their own words.
var sentences = []string{
	"More trips out please.",
	"I like the music group.",
	"The bus is late a lot.",
	"I want to do more cooking.",
	"The staff are kind to me.",
}

func (m *member) converse(ctx context.Context) {
	sms := m.rnd.Float64() < m.cfg.SMSShare
	var finished bool
	var err error
	if sms {
		finished, err = m.text(ctx)
	} else {
		finished, err = m.call(ctx)
	}
	m.stats.conversation(sms, finished, err)
}

// text holds one survey by SMS: the keyword, then an answer to each reply.
func (m *member) text(ctx context.Context) (bool, error) {
	body := m.cfg.Keyword
	for step := range m.cfg.MaxSteps {
		res, err := m.e.Text(ctx, m.from, m.cfg.To, body)
		if err != nil {
			return false, err
		}
		reply := strings.Join(res.Messages, "\n")
		keys := MenuKeys(reply)
		switch {
		case len(keys) > 0:
			body = m.pick(keys, step == 0)
		case ownWords.MatchString(reply):
			body = sentences[m.rnd.IntN(len(sentences))]
		case step == 0:
			return false, fmt.Errorf("phonesim: texting %s started no survey; the reply was %q", m.cfg.Keyword, reply)
		default:
			return true, nil // no question left: the thanks
		}
	}
	return false, fmt.Errorf("phonesim: the text conversation did not end within %d texts", m.cfg.MaxSteps)
}

// call holds one survey by phone: a key for each menu, a sentence for each
// recording.
func (m *member) call(ctx context.Context) (bool, error) {
	c, err := m.e.Call(ctx, m.from, m.cfg.To)
	if err != nil {
		return false, err
	}
	for step := range m.cfg.MaxSteps {
		switch c.Waiting() {
		case WaitEnded:
			return true, nil
		case WaitRecord:
			err = c.Record(2+m.rnd.IntN(5), sentences[m.rnd.IntN(len(sentences))])
		case WaitGather:
			heard := c.Heard()
			keys := MenuKeys(strings.Join(heard, "\n"))
			switch {
			case len(keys) > 0:
				err = c.Press(m.pick(keys, step == 0))
			case onlyAudio(heard):
				err = c.Press("1") // recorded prompts: nothing to read, so the first choice
			default:
				// No menu (a short pause before a recording, say): wait, as a caller does.
				err = c.Silence()
			}
		default:
			return false, fmt.Errorf("phonesim: the call is stuck (waiting for %q)", c.Waiting())
		}
		if err != nil {
			c.Hangup()
			return false, err
		}
	}
	c.Hangup()
	return false, fmt.Errorf("phonesim: the call did not end within %d key presses", m.cfg.MaxSteps)
}

// onlyAudio reports whether everything heard was played audio (no text).
func onlyAudio(heard []string) bool {
	for _, h := range heard {
		if !strings.HasPrefix(h, "[") {
			return false
		}
	}
	return len(heard) > 0
}

// pick chooses an answer: the first offered on the first question (the
// consent: yes), any offered after that.
func (m *member) pick(keys []string, first bool) string {
	if first {
		return keys[0]
	}
	return keys[m.rnd.IntN(len(keys))]
}

var (
	pressRE  = regexp.MustCompile(`(?i)\b(?:press|reply)\s+(\d)\b`)
	forRE    = regexp.MustCompile(`(?i)[,;]\s*(\d)\s+for\b`)
	lineRE   = regexp.MustCompile(`(?m)^\s*(\d)\s+\S`) // a text menu's line: "1 Good"
	rangeRE  = regexp.MustCompile(`(?i)\bfrom\s+(\d+)\s+to\s+(\d+)\b`)
	ownWords = regexp.MustCompile(`(?i)own words|tell us`)
)

// MenuKeys reads the answer keys a prompt offers, in order: "For Yes,
// press 1", "Reply 1 for Yes, 2 for No", a text menu's lines ("1 Yes",
// "2 No"), "a number from 1 to 5". The keys
// that are the same on every question (0 for a person, * to repeat, # to
// skip) are left out.
func MenuKeys(prompt string) []string {
	var keys []string
	add := func(k string) {
		if k != "0" && !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	}
	type hit struct {
		at   int
		keys []string
	}
	var hits []hit
	for _, m := range pressRE.FindAllStringSubmatchIndex(prompt, -1) {
		hits = append(hits, hit{m[2], []string{prompt[m[2]:m[3]]}})
	}
	for _, m := range lineRE.FindAllStringSubmatchIndex(prompt, -1) {
		hits = append(hits, hit{m[2], []string{prompt[m[2]:m[3]]}})
	}
	for _, m := range forRE.FindAllStringSubmatchIndex(prompt, -1) {
		hits = append(hits, hit{m[2], []string{prompt[m[2]:m[3]]}})
	}
	for _, m := range rangeRE.FindAllStringSubmatchIndex(prompt, -1) {
		lo, _ := strconv.Atoi(prompt[m[2]:m[3]])
		hi, _ := strconv.Atoi(prompt[m[4]:m[5]])
		var ks []string
		for k := lo; k <= hi && k <= 9 && len(ks) < 10; k++ {
			ks = append(ks, strconv.Itoa(k))
		}
		hits = append(hits, hit{m[2], ks})
	}
	sort.SliceStable(hits, func(i, j int) bool { return hits[i].at < hits[j].at })
	for _, h := range hits {
		for _, k := range h.keys {
			add(k)
		}
	}
	return keys
}

// ---- measuring ----

type loadStats struct {
	mu       sync.Mutex
	kinds    map[string]*kindStats
	convs    int
	sms      int
	finished int
	failed   int
	errs     int
	samples  []string
}

type kindStats struct {
	durations []time.Duration
	errors    int
}

func (s *loadStats) request(kind string, d time.Duration, failed bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := s.kinds[kind]
	if k == nil {
		k = &kindStats{}
		s.kinds[kind] = k
	}
	k.durations = append(k.durations, d)
	if failed {
		k.errors++
		s.errs++
	}
}

func (s *loadStats) conversation(sms, finished bool, err error) {
	s.mu.Lock()
	s.convs++
	if sms {
		s.sms++
	}
	switch {
	case err != nil:
		s.failed++
	case finished:
		s.finished++
	}
	s.mu.Unlock()
	if err != nil {
		s.sample(err)
	}
}

// fail counts an error that is not a request's (a callback's).
func (s *loadStats) fail(err error) {
	s.mu.Lock()
	s.errs++
	s.mu.Unlock()
	s.sample(err)
}

func (s *loadStats) sample(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	msg := err.Error()
	if len(s.samples) < maxErrorSamples && !slices.Contains(s.samples, msg) {
		s.samples = append(s.samples, msg)
	}
}

func (s *loadStats) fill(r *LoadReport, elapsed time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r.ElapsedSeconds = elapsed.Seconds()
	r.Conversations, r.SMS, r.Calls = s.convs, s.sms, s.convs-s.sms
	r.Finished, r.Failed = s.finished, s.failed
	r.Errors, r.ErrorSamples = s.errs, append([]string(nil), s.samples...)
	r.Kinds = nil
	for kind, k := range s.kinds {
		d := slices.Clone(k.durations)
		slices.Sort(d)
		r.Requests += len(d)
		r.Kinds = append(r.Kinds, KindReport{Kind: kind, Requests: len(d), Errors: k.errors,
			P50ms: ms(percentile(d, 0.50)), P95ms: ms(percentile(d, 0.95)), P99ms: ms(percentile(d, 0.99)), Maxms: ms(percentile(d, 1))})
	}
	sort.Slice(r.Kinds, func(i, j int) bool { return r.Kinds[i].Kind < r.Kinds[j].Kind })
	if sec := elapsed.Seconds(); sec > 0 {
		r.RequestsPerSec = float64(r.Requests) / sec
		r.ConversationsPS = float64(r.Conversations) / sec
	}
}

// percentile returns the nearest-rank q-th value of sorted d.
func percentile(d []time.Duration, q float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(d)))) - 1
	return d[min(max(i, 0), len(d)-1)]
}

func ms(d time.Duration) float64 { return math.Round(float64(d)/float64(time.Millisecond)*100) / 100 }

// timingTransport times every request.
type timingTransport struct {
	base  http.RoundTripper
	stats *loadStats
}

func (t *timingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	kind := WebhookKind(req.URL.Path)
	began := time.Now()
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		t.stats.request(kind, time.Since(began), true)
		return nil, err
	}
	// The answer counts once its body has been read.
	resp.Body = &timedBody{ReadCloser: resp.Body, done: func() {
		t.stats.request(kind, time.Since(began), resp.StatusCode >= 400)
	}}
	return resp, nil
}

// LoopbackClient returns an HTTP client for an Emulator whose WebhookBase
// (the server's PUBLIC_URL, which signatures cover) is not where the server
// can be reached from here: requests to publicURL go to serverURL instead.
func LoopbackClient(publicURL, serverURL string, timeout time.Duration) *http.Client {
	return &http.Client{Timeout: timeout, Transport: NewRedirectTransport(publicURL, serverURL, nil)}
}

// NewRedirectTransport sends requests addressed to publicURL to serverURL
// (scheme and host; publicURL's path prefix is removed, as the proxy in
// front of the server would) and every other request unchanged, through
// base (nil: http.DefaultTransport).
func NewRedirectTransport(publicURL, serverURL string, base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	pub, _ := url.Parse(publicURL)
	target, _ := url.Parse(serverURL)
	if pub == nil || target == nil {
		return base
	}
	return &redirectTransport{base: base, public: pub, target: target}
}

type redirectTransport struct {
	base           http.RoundTripper
	public, target *url.URL
}

func (t *redirectTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Host != t.public.Host || req.URL.Scheme != t.public.Scheme {
		return t.base.RoundTrip(req)
	}
	r2 := req.Clone(req.Context())
	u := *req.URL
	u.Scheme, u.Host = t.target.Scheme, t.target.Host
	if p := strings.TrimRight(t.public.Path, "/"); p != "" {
		u.Path = strings.TrimPrefix(u.Path, p)
		u.RawPath = ""
	}
	r2.URL = &u
	r2.Host = ""
	return t.base.RoundTrip(r2)
}

type timedBody struct {
	io.ReadCloser
	once sync.Once
	done func()
}

func (b *timedBody) Close() error {
	b.once.Do(b.done)
	return b.ReadCloser.Close()
}

// WebhookKind names the kind of a webhook request by its path, for
// latency figures: "/twilio/sms" is "sms", "/twilio/voice/status" is
// "voice/status", "/twilio/voice/gather/CA12…" is "voice/gather",
// "/audio/…" is "audio". Path parts holding digits (ids) are left out.
func WebhookKind(path string) string {
	p := strings.Trim(path, "/")
	// PUBLIC_URL may have a path prefix before the routes.
	if i := strings.Index("/"+p+"/", "/audio/"); i >= 0 {
		return "audio"
	}
	if i := strings.Index("/"+p, "/twilio/"); i >= 0 {
		p = p[i+len("twilio/"):]
	}
	var kept []string
	for _, part := range strings.Split(p, "/") {
		if part == "" || strings.ContainsAny(part, "0123456789") || len(part) > 24 {
			continue
		}
		kept = append(kept, part)
	}
	if len(kept) == 0 {
		return "/"
	}
	return strings.Join(kept, "/")
}

// ---- the server's memory ----

type memorySampler struct {
	client *http.Client
	url    string
	peak   atomic.Int64
}

func (m *memorySampler) every(ctx context.Context, d time.Duration) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			m.sample(ctx)
		}
	}
}

// sample reads the server's resident memory; 0 when it cannot.
func (m *memorySampler) sample(ctx context.Context) int64 {
	n, err := ServerMemory(ctx, m.client, m.url)
	if err != nil {
		return 0
	}
	for {
		p := m.peak.Load()
		if n <= p || m.peak.CompareAndSwap(p, n) {
			return n
		}
	}
}

// ServerMemory reads process_resident_memory_bytes from a Prometheus
// /metrics URL.
func ServerMemory(ctx context.Context, client *http.Client, metricsURL string) (int64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, metricsURL, nil)
	if err != nil {
		return 0, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("phonesim: %s answered %d", metricsURL, resp.StatusCode)
	}
	sc := bufio.NewScanner(io.LimitReader(resp.Body, 8<<20))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "process_resident_memory_bytes "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				return 0, fmt.Errorf("phonesim: process_resident_memory_bytes %q: %w", v, err)
			}
			return int64(f), nil
		}
	}
	if err := sc.Err(); err != nil {
		return 0, err
	}
	return 0, fmt.Errorf("phonesim: %s has no process_resident_memory_bytes", metricsURL)
}

// ---- printing ----

// Print writes the report for people to read.
func (r LoadReport) Print(w io.Writer) error {
	bw := &errWriter{w: w}
	calls := 1 - r.SMSShare
	fmt.Fprintf(bw, "Load test against %s: %d members at once, %.0f%% texts and %.0f%% calls.\n", r.URL, r.Members, 100*r.SMSShare, 100*calls)
	fmt.Fprintf(bw, "Conversations: %d (%d by text, %d by phone), %d finished, %d stopped by an error.\n",
		r.Conversations, r.SMS, r.Calls, r.Finished, r.Failed)
	fmt.Fprintf(bw, "Requests: %d in %.1f s: %.1f a second (%.2f conversations a second).\n",
		r.Requests, r.ElapsedSeconds, r.RequestsPerSec, r.ConversationsPS)
	fmt.Fprintln(bw)
	tw := tabwriter.NewWriter(bw, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "WEBHOOK\tREQUESTS\tERRORS\tP50 ms\tP95 ms\tP99 ms\tMAX ms")
	for _, k := range r.Kinds {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.1f\t%.1f\t%.1f\t%.1f\n", k.Kind, k.Requests, k.Errors, k.P50ms, k.P95ms, k.P99ms, k.Maxms)
	}
	tw.Flush()
	fmt.Fprintln(bw)
	if r.MemoryEndBytes > 0 || r.MemoryStartBytes > 0 {
		fmt.Fprintf(bw, "Server memory (resident): %s at the start, %s at most, %s at the end.\n",
			mib(r.MemoryStartBytes), mib(r.MemoryPeakBytes), mib(r.MemoryEndBytes))
	} else {
		fmt.Fprintln(bw, "Server memory: unknown (its /metrics could not be read).")
	}
	if r.Errors == 0 && r.Failed == 0 {
		fmt.Fprintln(bw, "Errors: none.")
	} else {
		fmt.Fprintf(bw, "Errors: %d failed requests; %d conversations stopped. The first ones:\n", r.Errors, r.Failed)
		for _, s := range r.ErrorSamples {
			fmt.Fprintf(bw, "  - %s\n", s)
		}
	}
	return bw.err
}

// WriteJSON writes the report as one JSON object, for machines.
func (r LoadReport) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

func mib(b int64) string {
	if b <= 0 {
		return "unknown"
	}
	return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20))
}

type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}
