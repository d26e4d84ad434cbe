package demo

import (
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/haveyoursay/haveyoursay/phonesim"
)

func TestPlanShowsEveryKindOverTheWeeks(t *testing.T) {
	now := time.Date(2026, 11, 29, 15, 0, 0, 0, time.UTC)
	members := plan(rand.New(rand.NewPCG(3, 0)), 40, 42, now)
	for i, want := range cast {
		if !want(members[i][0]) {
			t.Errorf("member %d does not show what cast %d asks for: %+v", i, i, members[i][0])
		}
	}
	members = plan(rand.New(rand.NewPCG(3, 0)), 300, 42, now)
	n := 0
	phones := map[string]bool{}
	for _, vs := range members {
		if phones[vs[0].phone] {
			t.Errorf("two members share %s", vs[0].phone)
		}
		phones[vs[0].phone] = true
		for i, v := range vs {
			n++
			if v.at.After(now.Add(-time.Hour)) || v.at.Before(now.AddDate(0, 0, -46)) {
				t.Errorf("a visit at %s, want within the six weeks before %s", v.at, now)
			}
			if i > 0 && !v.at.After(vs[i-1].at) {
				t.Errorf("%s comes back at %s, before their first visit at %s", v.phone, v.at, vs[i-1].at)
			}
			if v.kind == "lapsed" && now.Sub(v.at) < 4*24*time.Hour {
				t.Errorf("an open text conversation at %s is still within its session", v.at)
			}
		}
	}
	if n != 300 {
		t.Errorf("planned %d visits, want 300", n)
	}
	again := plan(rand.New(rand.NewPCG(3, 0)), 300, 42, now)
	if !reflect.DeepEqual(members, again) {
		t.Error("the same seed planned a different demo")
	}
}

func TestVoiceWAVIsARecordingTwilioWouldMake(t *testing.T) {
	b := voiceWAV("I would like to go to the seaside with my friends", rand.New(rand.NewPCG(1, 2)))
	d, err := phonesim.WAVDuration(b)
	if err != nil {
		t.Fatal(err)
	}
	if d < 4*time.Second || d > 6*time.Second {
		t.Errorf("ten words last %s, want about five seconds", d)
	}
	loud := 0
	for i := 44; i+1 < len(b); i += 2 {
		if s := int16(uint16(b[i]) | uint16(b[i+1])<<8); s > 3000 || s < -3000 {
			loud++
		}
	}
	if loud < len(b)/20 {
		t.Errorf("only %d loud samples in %d bytes: staff would hear silence", loud, len(b))
	}
}
