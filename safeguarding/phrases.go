package safeguarding

// DefaultPhrases is the shipped list of risk phrases: words a member might
// use to tell us that someone is hurting them, that they are not safe, or
// that they may hurt themselves. Each is matched as whole words, in any
// case, ignoring punctuation ("hit me!" matches "hit me"); a word ending
// in * matches any ending ("abus*": abuse, abused, abusive, abuser).
// Common misspellings and text-speak are listed as phrases of their own.
//
// The list leans towards telling a person too often rather than too
// rarely: a member's words are read by the safeguarding lead, who decides.
// A charity adds its own with HYS_SAFEGUARDING_PHRASES.
var DefaultPhrases = []string{
	// Harm and abuse by others.
	"harm", "harmed", "harming", "harms",
	"hurt me", "hurts me", "hurting me", "hurted me", "hurt by",
	"hit me", "hits me", "hitting me", "hitted me",
	"kick me", "kicks me", "kicked me", "kicking me",
	"punch*", "slap*", "beat me", "beats me", "beat me up",
	"push me", "pushes me", "pushed me", "pushing me",
	"grab me", "grabs me", "grabbed me",
	"abus*", "neglect*",
	"bully", "bullies", "bullied", "bullying",
	"shout at me", "shouts at me", "shouted at me", "shouting at me",
	"yell at me", "yells at me", "yelled at me", "yelling at me",
	"threaten*",
	"touch me", "touches me", "touched me", "touching me",
	"rape*", "sexual", "molest*", "grope*",
	"lock me in", "locks me in", "locked me in", "lock me up", "locked me up",
	"take my money", "takes my money", "took my money", "taking my money", "stole my money", "steal my money",
	"kill me", "going to kill",
	// Fear and safety.
	"scared", "scare me", "scares me", "frightened", "afraid", "terrified", "petrified",
	"not safe", "unsafe", "dont feel safe", "do not feel safe",
	// Harm to self, and crisis.
	"kill myself", "kill my self", "killing myself", "kil myself", "kms", "kys",
	"suicid*", "sucid*", "suicd*", "suiside", "suicde", "sewercide",
	"unalive*",
	"self harm", "selfharm", "self harming", "self harmed", "sh myself",
	"cut myself", "cutting myself", "cut my self", "cuts myself",
	"end it all", "end my life", "ending my life", "want to die", "wanna die", "wana die",
	"want to be dead", "wish i was dead", "wish i were dead", "better off dead", "better off without me",
	"no reason to live", "no point living", "no point in living", "cant go on", "can not go on", "cannot go on",
	"overdose", "od on", "hang myself",
}
