package ivr_test

import "github.com/haveyoursay/haveyoursay/webhook"

func webhookVerifier(publicURL string) webhook.Verifier {
	return webhook.Verifier{AuthToken: authToken, PublicURL: publicURL}
}
