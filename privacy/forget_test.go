package privacy_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/haveyoursay/haveyoursay/store"
	"github.com/haveyoursay/haveyoursay/store/storetest"
	"github.com/haveyoursay/haveyoursay/survey"
)

const (
	member = "+447700900123"
	other  = "+447700900456"
)

// speak answers the demo survey by text and by phone as number, with a
// recording, a call-back, a note and a flag, and returns the recording's
// SID.
func (e *env) speak(number string) string {
	e.t.Helper()
	e.text(number, "DAYS")
	e.text(number, "yes")
	e.text(number, "3")
	e.text(number, "the bus is always late")
	e.text(number, "0") // a person, please: a call-back
	c, err := e.sim.Call(e.ctx, number, ourNumber)
	if err != nil {
		e.t.Fatal(err)
	}
	must(e.t, c.Press("1"))
	must(e.t, c.Press("3"))
	must(e.t, c.Silence())
	must(e.t, c.Record(5, "More trips out please"))
	must(e.t, c.Hangup())
	must(e.t, e.sim.FlushCallbacks(e.ctx))
	e.flush()
	var sid, conv string
	if err := storetest.SQL(e.t, e.db).QueryRow(e.ctx, `SELECT sid, conversation_id FROM recordings WHERE conversation_id = $1`, c.Sid).Scan(&sid, &conv); err != nil {
		e.t.Fatalf("the recording of %s was not stored: %v", number, err)
	}
	if _, err := e.db.RaiseFlag(e.ctx, "sam@example.org", conv, 0, "matters", "a good idea"); err != nil {
		e.t.Fatal(err)
	}
	if err := e.db.AddNote(e.ctx, "sam@example.org", conv, 0, "Ask about trips at the next meeting"); err != nil {
		e.t.Fatal(err)
	}
	return sid
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestForgetByTextLeavesNoTrace: a member who texted and called texts
// FORGET. Afterwards no table, no Redis key or value and no spooled event
// holds their number, its hash or their recording, Twilio was asked to
// delete the recording, the audit log says an erasure happened (with no
// personal data), and another member's answers are all still there.
func TestForgetByTextLeavesNoTrace(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	rec := e.speak(member)
	otherRec := e.speak(other)
	e.text(member, "DAYS") // a conversation still running in Redis
	e.flush()

	// An event about them that Postgres refused waits in the failed spool.
	hash := e.srv.Phones.Hash(member)
	stuck, _ := json.Marshal(store.Event{Message: &store.MessageLogged{DedupeKey: "SMstuck", Direction: "in",
		Person: store.Person{Hash: hash, Enc: e.srv.Phones.Encrypt(member), Masked: store.Mask(member)}, Body: "hello?"}})
	rc := storetest.RedisClient(t, e.redis)
	must(t, rc.RPush(e.ctx, e.redis.Key("spool", "failed"), stuck).Err())

	needles := e.needles(member, []string{rec})
	if found := e.traces(needles, nil); len(found) == 0 {
		t.Fatal("before FORGET the search finds nothing: it cannot be trusted")
	}
	if found := e.redisTraces(needles); len(found) == 0 {
		t.Fatal("before FORGET the Redis search finds nothing: it cannot be trusted")
	}

	replies := e.text(member, "Forget")
	if want := survey.DefaultPhrases["forget-done"]; !slices.Contains(replies, want) {
		t.Fatalf("FORGET was answered %q, want %q", replies, want)
	}
	e.waitFor("the erasure", func() bool {
		return e.count(`SELECT count(*) FROM forget_requests`) == 0 && e.count(`SELECT count(*) FROM audit_log WHERE action = 'forget'`) == 1
	})
	e.waitFor("Twilio's copy to be deleted", func() bool { return e.sim.RecordingDeleted(rec) })
	e.flush()

	if found := e.traces(needles, nil); len(found) > 0 {
		t.Errorf("after FORGET Postgres still holds:\n  %s", strings.Join(found, "\n  "))
	}
	if found := e.redisTraces(needles); len(found) > 0 {
		t.Errorf("after FORGET Redis still holds:\n  %s", strings.Join(found, "\n  "))
	}
	if found := e.spoolTraces(needles); len(found) > 0 {
		t.Errorf("after FORGET the spool still holds:\n  %s", strings.Join(found, "\n  "))
	}
	if n := e.count(`SELECT count(*) FROM twilio_deletions`); n != 0 {
		t.Errorf("%d Twilio deletions still queued", n)
	}
	var detail map[string]any
	var actor, subject string
	must(t, storetest.SQL(t, e.db).QueryRow(e.ctx, `SELECT actor, subject, detail FROM audit_log WHERE action = 'forget'`).Scan(&actor, &subject, &detail))
	if actor != "member" || subject != "" || detail["source"] != "sms" || detail["conversations"].(float64) != 3 ||
		detail["recordings"].(float64) != 1 || detail["twilio_recordings"].(float64) != 1 || detail["kept_opt_out"] != false {
		t.Errorf("the audit entry: %s %q %v", actor, subject, detail)
	}

	// The other member is untouched.
	if e.sim.RecordingDeleted(otherRec) {
		t.Error("the other member's recording was deleted at Twilio")
	}
	if found := e.traces(e.needles(other, []string{otherRec}), nil); len(found) < 5 {
		t.Errorf("the other member's data went too: only %v", found)
	}
	if n := e.count(`SELECT count(*) FROM answers a JOIN conversations c ON c.id = a.conversation_id
		JOIN participants p ON p.id = c.participant_id WHERE p.phone_hash = $1`, e.srv.Phones.Hash(other)); n < 4 {
		t.Errorf("the other member has %d answers left", n)
	}

	// Texting again afterwards starts afresh, as a new member.
	if replies := e.text(member, "DAYS"); len(replies) == 0 || !strings.Contains(strings.Join(replies, " "), "day service") {
		t.Errorf("DAYS after FORGET: %q", replies)
	}
}

// TestForgetByStaffTextsConfirmation: staff act on a request made by
// phone. The member is texted a plain confirmation; a member who texted
// STOP is not (rule 4), and only the keyed hash of their number is kept,
// with the date they stopped, so they are never texted again.
func TestForgetByStaffTextsConfirmation(t *testing.T) {
	t.Parallel()
	e := newEnv(t, nil)
	rec := e.speak(member)
	e.speak(other)
	e.text(other, "STOP")
	e.flush()

	for _, number := range []string{member, other} {
		id, err := e.db.MemberIDByHash(e.ctx, e.srv.Phones.Hash(number))
		must(t, err)
		if _, err := e.srv.Privacy.ForgetMember(e.ctx, id, "ann@example.org", true); err != nil {
			t.Fatal(err)
		}
	}
	e.waitFor("both erasures", func() bool {
		return e.count(`SELECT count(*) FROM forget_requests`) == 0 && e.count(`SELECT count(*) FROM audit_log WHERE action = 'forget'`) == 2
	})
	e.waitFor("Twilio's copy to be deleted", func() bool { return e.sim.RecordingDeleted(rec) })

	confirm := survey.DefaultPhrases["forget-confirm"]
	var toMember, toOther int
	for _, m := range e.sim.Sent() {
		if m.Body == confirm && m.To == member {
			toMember++
		}
		if m.To == other {
			toOther++
		}
	}
	if toMember != 1 || toOther != 0 {
		t.Errorf("confirmations: %d to the member (want 1), %d texts to the one who texted STOP (want 0)", toMember, toOther)
	}
	if found := e.traces(e.needles(member, []string{rec}), nil); len(found) > 0 {
		t.Errorf("after erasure Postgres still holds:\n  %s", strings.Join(found, "\n  "))
	}
	if found := e.redisTraces(e.needles(member, []string{rec})); len(found) > 0 {
		t.Errorf("after erasure Redis still holds:\n  %s", strings.Join(found, "\n  "))
	}
	// The one who texted STOP: the hash and the date, nothing else.
	if n := e.count(`SELECT count(*) FROM participants WHERE phone_hash = $1 AND opted_out_at IS NOT NULL
		AND phone_enc = '' AND phone_masked = ''`, e.srv.Phones.Hash(other)); n != 1 {
		t.Errorf("the opt-out was not kept as a bare hash (%d rows)", n)
	}
	if n := e.count(`SELECT count(*) FROM conversations`) + e.count(`SELECT count(*) FROM messages`) +
		e.count(`SELECT count(*) FROM answers`) + e.count(`SELECT count(*) FROM recordings`) +
		e.count(`SELECT count(*) FROM callbacks`) + e.count(`SELECT count(*) FROM call_inputs`); n != 0 {
		t.Errorf("%d rows of conversations, messages, answers, recordings, call-backs or call inputs are left", n)
	}
	if replies := e.text(other, "DAYS"); len(replies) != 0 {
		t.Errorf("someone who texted STOP and was erased was answered %q", replies)
	}
	var who string
	must(t, storetest.SQL(t, e.db).QueryRow(e.ctx, `SELECT DISTINCT actor FROM audit_log WHERE action = 'forget'`).Scan(&who))
	if who != "ann@example.org" {
		t.Errorf("the audit log says %q asked", who)
	}
}
