package demo

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"time"
)

// The numbers members text and call in the demo. Calls and texts to
// HomeNumber start "Your home"; texts to DaysNumber need the keyword DAYS,
// and calls to it start the day-service survey (the only one with a
// keyword).
const (
	DaysNumber = "+447700900100"
	HomeNumber = "+447700900200"
)

// action is one thing a member does.
type action int

const (
	text    action = iota // SMS: send words
	press                 // phone: keypad keys
	speak                 // phone: words spoken, recognised with conf
	record                // phone: speak after the beep (words is what a transcript hears)
	silence               // phone: say nothing
	hangup                // phone: hang up; SMS: stop texting
)

// step is one turn of a member. When we do not understand it, the member
// tries again with retry (a key, or a plainer word), as people do.
type step struct {
	do    action
	words string
	keys  string
	conf  float64
	retry string
}

// visit is one conversation: a member texting or calling once.
type visit struct {
	phone string
	voice bool
	to    string
	at    time.Time // when it should seem to have happened
	steps []step
	kind  string // completed, partial, refused, lapsed: what the script means to leave
	welsh bool
}

// has tells whether a visit shows something staff should find in the
// demo: "callback", "not-understood", "worry", "recording".
func (v visit) has(what string) bool {
	for _, s := range v.steps {
		switch {
		case what == "callback" && (s.keys == "0" || s.do == text && slices.Contains(askForPerson, s.words)),
			what == "not-understood" && (s.keys >= "7" && s.keys <= "9" || s.do == speak && s.conf < 0.5),
			what == "worry" && (slices.Contains(dayWorry, s.words) || slices.Contains(homeWorry, s.words)),
			what == "recording" && s.do == record:
			return true
		}
	}
	return false
}

// cast is what the demo always shows, whatever the seed: each kind of
// conversation on each channel, and the things staff must act on.
var cast = []func(v visit) bool{
	func(v visit) bool { return !v.voice && v.kind == "completed" && v.has("callback") },
	func(v visit) bool { return v.voice && v.kind == "completed" && v.has("callback") },
	func(v visit) bool { return !v.voice && v.kind == "partial" },
	func(v visit) bool { return v.voice && v.kind == "partial" },
	func(v visit) bool { return !v.voice && v.kind == "lapsed" },
	func(v visit) bool { return !v.voice && v.kind == "refused" },
	func(v visit) bool { return v.voice && v.kind == "refused" },
	func(v visit) bool { return !v.voice && v.welsh && v.kind == "completed" },
	func(v visit) bool { return v.voice && v.welsh && v.has("recording") },
	func(v visit) bool { return v.voice && v.has("not-understood") && v.has("recording") },
	func(v visit) bool { return !v.voice && v.has("worry") },
	func(v visit) bool { return v.voice && v.has("worry") && v.has("recording") },
}

// mood colours a member's answers.
type mood int

const (
	happy mood = iota
	mixed
	unhappy
)

func pick[T any](rng *rand.Rand, xs ...T) T { return xs[rng.IntN(len(xs))] }

func chance(rng *rand.Rand, p float64) bool { return rng.Float64() < p }

func moodOf(rng *rand.Rand) mood {
	switch f := rng.Float64(); {
	case f < 0.45:
		return happy
	case f < 0.8:
		return mixed
	}
	return unhappy
}

// plan makes the demo's members: n conversations spread over the last
// days days before now, oldest first within each member.
func plan(rng *rand.Rand, n, days int, now time.Time) [][]visit {
	var members [][]visit
	made := 0
	for i := 0; made < n; i++ {
		phone := fmt.Sprintf("+4477009%05d", 300+i) // Ofcom's drama numbers: never a real phone
		at := whenIn(rng, days, now)
		v := newVisit(rng, phone, at)
		if i < len(cast) {
			for try := 0; !cast[i](v) && try < 10000; try++ {
				v = newVisit(rng, phone, at)
			}
		}
		if v.kind == "lapsed" && now.Sub(v.at) < 4*24*time.Hour {
			// A text conversation left open is put in the past, beyond
			// its session (three days by default), so that no reminder
			// is sent to a pretend member.
			v.at = v.at.AddDate(0, 0, -4)
		}
		vs := []visit{v}
		made++
		// Some members come back another day, to the other survey.
		if made < n && v.kind != "partial" && v.kind != "lapsed" && chance(rng, 0.12) {
			w := newVisitTo(rng, phone, !isHome(v), v.at.Add(time.Duration(2+rng.IntN(12))*24*time.Hour))
			if w.at.Before(now.Add(-time.Hour)) {
				vs = append(vs, w)
				made++
			}
		}
		members = append(members, vs)
	}
	return members
}

func isHome(v visit) bool { return v.to == HomeNumber }

// whenIn picks a moment in the last days days: more on weekdays, mostly
// in the day, a few in the evening.
func whenIn(rng *rand.Rand, days int, now time.Time) time.Time {
	for {
		d := rng.IntN(days)
		day := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, now.Location()).AddDate(0, 0, -d)
		if wd := day.Weekday(); (wd == time.Saturday || wd == time.Sunday) && chance(rng, 0.6) {
			continue
		}
		hour := 9 + rng.IntN(9)
		if chance(rng, 0.15) {
			hour = 18 + rng.IntN(3)
		}
		at := day.Add(time.Duration(hour)*time.Hour + time.Duration(rng.IntN(3600))*time.Second)
		if at.Before(now.Add(-time.Hour)) {
			return at
		}
	}
}

func newVisit(rng *rand.Rand, phone string, at time.Time) visit {
	return newVisitTo(rng, phone, chance(rng, 0.35), at)
}

// newVisitTo scripts one conversation with one of the surveys.
func newVisitTo(rng *rand.Rand, phone string, home bool, at time.Time) visit {
	v := visit{phone: phone, voice: chance(rng, 0.45), at: at, kind: "completed"}
	m := moodOf(rng)
	var questions [][]step
	var start []step
	if home {
		v.to = HomeNumber
		welsh := chance(rng, 0.3)
		v.welsh = welsh
		if !v.voice {
			start = append(start, step{do: text, words: pick(rng, "Hi", "hello", "Hello", "home survey", "hiya")})
		}
		start = append(start, languageStep(rng, v.voice, welsh))
		start = append(start, consentStep(rng, v.voice, welsh, true))
		questions = homeQuestions(rng, v.voice, welsh, m)
	} else {
		v.to = DaysNumber
		if !v.voice {
			start = append(start, step{do: text, words: pick(rng, "DAYS", "days", "Days", "DAYS ")})
		}
		start = append(start, consentStep(rng, v.voice, false, true))
		questions = dayQuestions(rng, v.voice, m)
	}

	switch f := rng.Float64(); {
	case f < 0.06: // says no to keeping their answers
		v.kind = "refused"
		start[len(start)-1] = consentStep(rng, v.voice, false, false)
		v.steps = start
		return v
	case f < 0.2: // stops part of the way
		questions = questions[:1+rng.IntN(len(questions)-1)]
		v.kind = "partial"
		end := step{do: hangup}
		if !v.voice {
			if chance(rng, 0.4) {
				end = step{do: text, words: pick(rng, "STOP", "stop")}
			} else {
				// They stop replying: the conversation stays open until
				// its session lapses (see plan).
				v.kind = "lapsed"
			}
		}
		questions = append(questions, []step{end})
	}
	// Some ask for a person, part of the way through.
	if chance(rng, 0.05) {
		i := rng.IntN(len(questions))
		ask := step{do: press, keys: "0"}
		if !v.voice {
			ask = step{do: text, words: pick(rng, askForPerson...)}
		}
		questions[i] = append([]step{ask}, questions[i]...)
	}
	v.steps = start
	for _, q := range questions {
		v.steps = append(v.steps, q...)
	}
	return v
}

func languageStep(rng *rand.Rand, voice, welsh bool) step {
	key := "1"
	if welsh {
		key = "2"
	}
	if voice {
		return step{do: press, keys: key}
	}
	if welsh {
		return step{do: text, words: pick(rng, "2", "2", "cymraeg", "Cymraeg"), retry: "2"}
	}
	return step{do: text, words: pick(rng, "1", "1", "english", "English"), retry: "1"}
}

func consentStep(rng *rand.Rand, voice, welsh, yes bool) step {
	switch {
	case voice && yes:
		if chance(rng, 0.6) {
			return step{do: press, keys: "1"}
		}
		return step{do: speak, words: pick(rng, "yes", "yes please", "okay", "yeah that's fine"), conf: 0.85, retry: "1"}
	case voice:
		if chance(rng, 0.5) {
			return step{do: press, keys: "2"}
		}
		return step{do: speak, words: pick(rng, "no", "no thank you"), conf: 0.9, retry: "2"}
	case welsh && yes:
		return step{do: text, words: pick(rng, "ydw", "Ydw", "1", "iawn"), retry: "1"}
	case welsh:
		return step{do: text, words: pick(rng, "nac ydw", "2"), retry: "2"}
	case yes:
		return step{do: text, words: pick(rng, "yes", "Yes", "yes ok", "Yeah", "ok", "👍", "yes please", "1", "YES"), retry: "1"}
	}
	return step{do: text, words: pick(rng, "no", "No thanks", "not now", "no ta", "2"), retry: "2"}
}

// choice answers a menu question: by text (a word, a typo, an emoji or
// the number), or by phone (a key, or words spoken), sometimes with a
// first try that we do not understand.
func choice(rng *rand.Rand, voice bool, key string, texts, spoken []string) []step {
	if !voice {
		return []step{{do: text, words: pick(rng, texts...), retry: key}}
	}
	var steps []step
	if chance(rng, 0.25) {
		// Not understood: a key that is not on the menu, or a mumble.
		if chance(rng, 0.5) {
			steps = append(steps, step{do: press, keys: pick(rng, "7", "8", "9")})
		} else {
			steps = append(steps, step{do: speak, words: pick(rng, "what", "the thing", "er hang on", "hmm"), conf: 0.3 + rng.Float64()*0.2})
		}
	}
	if chance(rng, 0.55) {
		return append(steps, step{do: press, keys: key})
	}
	return append(steps, step{do: speak, words: pick(rng, spoken...), conf: 0.6 + rng.Float64()*0.35, retry: key})
}

// words answers a words question: typed, or spoken after the beep, or
// skipped.
func words(rng *rand.Rand, voice bool, typed, said []string) []step {
	if chance(rng, 0.1) {
		if voice {
			return []step{{do: press, keys: "#"}}
		}
		return []step{{do: text, words: pick(rng, "skip", "SKIP")}}
	}
	if voice {
		return []step{{do: record, words: pick(rng, said...)}}
	}
	return []step{{do: text, words: pick(rng, typed...)}}
}

// worry is a rare answer that a safeguarding lead must see: worded
// gently, as members often say such things.
func worry(rng *rand.Rand) bool { return chance(rng, 0.02) }

func dayQuestions(rng *rand.Rand, voice bool, m mood) [][]step {
	// Only "Not good" leads to the words question, "better".
	worried := worry(rng)
	if worried {
		m = unhappy
	}
	var feel, better []step
	switch m {
	case happy:
		feel = choice(rng, voice, "1", []string{"1", "good", "Good", "great", "😀", "👍", "brilliant", "its great", "gd", "GOOD!!"},
			[]string{"good", "it's really good", "great", "brilliant"})
	case mixed:
		feel = choice(rng, voice, "2", []string{"2", "ok", "OK", "alright", "so so", "😐", "its ok", "okay i guess"},
			[]string{"okay", "it's alright", "so so"})
	default:
		feel = choice(rng, voice, "3", []string{"3", "not good", "bad", "rubbish", "🙁", "👎", "awful", "not gud"},
			[]string{"not good", "it's rubbish", "bad"})
		better = words(rng, voice, dayUnhappy, dayUnhappySaid)
		if worried {
			better = words(rng, voice, dayWorry, dayWorry)
		}
	}
	score := pick(rng, map[mood][]int{happy: {5, 4, 5}, mixed: {3, 4, 3}, unhappy: {1, 2, 2}}[m]...)
	key := fmt.Sprint(score)
	said := []string{"one", "two", "three", "four", "five"}[score-1]
	staff := choice(rng, voice, key, []string{key, key, said, key + "!!", key + " i think"}, []string{said, "um " + said})
	var days []step
	switch f := rng.Float64(); {
	case f < 0.45:
		days = choice(rng, voice, "1", []string{"more", "1", "more please", "More!", "more days"}, []string{"more days", "more please"})
	case f < 0.85:
		days = choice(rng, voice, "2", []string{"same", "2", "the same", "Same"}, []string{"the same", "same please"})
	default:
		days = choice(rng, voice, "3", []string{"fewer", "less", "3", "less days"}, []string{"fewer days", "less"})
	}
	if better == nil {
		return [][]step{feel, staff, days}
	}
	return [][]step{feel, better, staff, days}
}

func homeQuestions(rng *rand.Rand, voice, welsh bool, m mood) [][]step {
	var happyQ, change []step
	safe := choice(rng, voice, "1", []string{"1", "safe", "yes safe", "yes", "👍"}, []string{"safe", "yes I feel safe"})
	if chance(rng, 0.12) {
		safe = choice(rng, voice, "3", []string{"3", "not sure", "dunno", "🤷"}, []string{"not sure", "I don't know"})
	}
	switch m {
	case happy:
		happyQ = choice(rng, voice, "1", []string{"1", "yes", "love it", "😀", "❤️", "yeah"}, []string{"yes", "yes I love it"})
		change = words(rng, voice, homeHappy, homeHappySaid)
	case mixed:
		happyQ = choice(rng, voice, "2", []string{"2", "a bit", "sometimes", "ok", "😐"}, []string{"a bit", "sometimes"})
		change = words(rng, voice, homeMixed, homeMixedSaid)
	default:
		happyQ = choice(rng, voice, "3", []string{"3", "no", "sad", "😢", "nope"}, []string{"no", "not really no"})
		change = words(rng, voice, homeUnhappy, homeUnhappySaid)
	}
	if welsh {
		k := map[mood]string{happy: "1", mixed: "2", unhappy: "3"}[m]
		happyQ = choice(rng, voice, k, []string{k, map[mood]string{happy: "ydw", mixed: "ychydig", unhappy: "na"}[m]},
			[]string{map[mood]string{happy: "ydw", mixed: "ychydig", unhappy: "na"}[m]})
		safe = choice(rng, voice, "1", []string{"1", "diogel"}, []string{"diogel"})
		change = words(rng, voice, homeWelsh, homeWelsh)
	}
	if !welsh && worry(rng) {
		safe = choice(rng, voice, "2", []string{"2", "not safe", "no"}, []string{"not safe"})
		change = words(rng, voice, homeWorry, homeWorry)
	}
	return [][]step{happyQ, safe, change}
}

// sortVisits orders every visit by when it should seem to have happened.
func sortVisits(members [][]visit) {
	sort.SliceStable(members, func(i, j int) bool { return members[i][0].at.Before(members[j][0].at) })
}

// What members say in their own words: typed as people text (typos,
// text-speak, emoji), and as a transcript hears speech.
var (
	dayUnhappy = []string{"the bus is late a lot and i miss the start", "too noisy in the big room", "i dont get to pick what we do",
		"the food is cold at lunch", "my keyworker left and i miss her 😢", "nobody listens to me", "i dont like the new building its too loud", "we never go out anymore",
		"wud like to go swimming again, we used to", "more trips out pls 🚌", "they changed my days and didnt ask me", "bored bored bored", "the toilet is always dirty"}
	dayUnhappySaid = []string{"Um, the bus is always late so I miss the start of the morning", "I want to choose what we do, not just staff",
		"Sometimes there's not enough staff so we can't go out", "Nobody asks me what I want to do", "They changed my days and I didn't know, nobody told me",
		"It's boring. We just sit there and watch telly", "I don't like the new place, it's too big and loud",
		"I miss doing gardening. We used to grow tomatoes", "The minibus is broken so we don't go anywhere"}
	dayWorry = []string{"staff shout at me sometimes", "a man on the bus says bad things to me and i dont want to go",
		"someone takes my money at lunch and i dont like it"}

	homeHappy = []string{"nothing i love my flat ❤️", "a bigger telly lol", "i want a cat", "new sofa pls the old one is broken",
		"more help with cooking", "I would like to live with my friend Jo", "a garden for my plants 🌻"}
	homeHappySaid = []string{"Nothing, I like where I live", "I'd like a pet, maybe a cat",
		"More help with cooking so I can make my own tea", "I'd like to paint my bedroom blue. Blue is my favourite",
		"Can I have wifi in my room so I can watch my programmes", "A bench in the garden so I can sit out when it's sunny"}
	homeMixed = []string{"the man next door plays loud music at night", "my room is cold in winter", "staff change all the time",
		"i want my own key", "the shower is broken for 2 weeks now", "i share the kitchen and its messy"}
	homeMixedSaid = []string{"I want my own front door key", "The staff keep changing and I don't know who's coming",
		"It's noisy at night and I can't sleep", "The heating doesn't work properly and my room gets cold",
		"I would like to do my own shopping, with a bit of help", "Um, the washing machine is broken, we have to wait for it"}
	homeUnhappy = []string{"i want to move", "i dont get on with the people i live with", "i am lonely at the weekend",
		"nobody helps me go out"}
	homeUnhappySaid = []string{"I'm lonely at the weekends, there's nobody to go out with", "I want to move nearer my mum",
		"Nobody knocks before they come in my room", "I don't like living with so many people, it's too loud"}
	homeWorry    = []string{"night staff are not kind to me sometimes", "i dont feel safe when the new man is on shift"}
	askForPerson = []string{"0", "can someone ring me", "help", "i want to talk to a person"}
	homeWelsh    = []string{"hoffwn i gael ci", "hoffwn i weld fy ffrindiau yn amlach", "mae'r staff yn garedig iawn", "mwy o help gyda siopa", "dim byd, dw i'n hapus", "ystafell wely fwy plis",
		"mae'r gwres ddim yn gweithio"}
)
