// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duosim

import (
	"time"
)

// Population configures the inventory one account serves: its users (with
// their phones, tokens and WebAuthn credentials), bypass codes, groups,
// Duo Desktop endpoints, administrators, integrations and policies.
//
// Users are generated deterministically from the account's seed and kept
// as compact records (32 bytes each, bypass codes 24 bytes); their
// JSON is rendered per page. Shares are probabilities drawn per user, so
// the resulting numbers are near, not equal to, share × Users:
// InventoryCounts gives the exact ones.
type Population struct {
	// Users is the number of users listed by /admin/v1/users.
	Users int
	// ShareUnenrolled is the share of users with no phone, token or
	// WebAuthn credential (is_enrolled false).
	ShareUnenrolled float64
	// ShareBypass, ShareLockedOut, ShareDisabled and SharePendingDeletion
	// are the shares of users in each status; the rest are active.
	ShareBypass, ShareLockedOut, ShareDisabled, SharePendingDeletion float64
	// ShareInactive is the share of users whose last_login is older than
	// InactiveAfter or null; ShareNeverLoggedIn is the share of those with
	// last_login null.
	ShareInactive, ShareNeverLoggedIn float64
	// InactiveAfter is the generator's boundary between recent and old
	// logins; default 720h. Active users logged in within InactiveAfter-1h.
	InactiveAfter time.Duration
	// ShareBypassCodes is the share of users with bypass codes;
	// each has 1 to BypassCodesPerUser codes (default 1). About a fifth
	// of the codes have expired and half never expire.
	ShareBypassCodes   float64
	BypassCodesPerUser int
	// PhonesMin and PhonesMax bound the phones of an enrolled user
	// (default 1 to 3). An enrolled user left without any device gets a
	// WebAuthn credential, as is_enrolled requires one.
	PhonesMin, PhonesMax int
	// ShareTokens and ShareWebAuthn are the shares of enrolled users with
	// one or two hardware tokens, and one or two WebAuthn credentials.
	ShareTokens, ShareWebAuthn float64
	// ShareSharedPhone is the share of enrolled users who also carry an
	// earlier user's first phone (Duo lets one phone serve many users), so
	// counting phones by phone_id differs from counting embedded phones.
	ShareSharedPhone float64
	// Groups, Endpoints, Admins, Integrations and Policies are the sizes
	// of those lists. The first policy is the global policy.
	Groups, Endpoints, Admins, Integrations, Policies int
	// TelephonyCredits is telephony_credits_remaining in the summary.
	TelephonyCredits int
}

// DefaultPopulation is a small inventory for demos and tests: 60 users
// and every kind of object.
func DefaultPopulation() Population {
	return Population{
		Users:                60,
		ShareUnenrolled:      0.1,
		ShareBypass:          0.05,
		ShareLockedOut:       0.05,
		ShareDisabled:        0.05,
		SharePendingDeletion: 0.02,
		ShareInactive:        0.2,
		ShareNeverLoggedIn:   0.3,
		InactiveAfter:        720 * time.Hour,
		ShareBypassCodes:     0.1,
		BypassCodesPerUser:   2,
		PhonesMin:            1,
		PhonesMax:            3,
		ShareTokens:          0.1,
		ShareWebAuthn:        0.2,
		ShareSharedPhone:     0.03,
		Groups:               7,
		Endpoints:            20,
		Admins:               6,
		Integrations:         12,
		Policies:             4,
		TelephonyCredits:     960,
	}
}

func (p Population) withDefaults() Population {
	if p.InactiveAfter <= 0 {
		p.InactiveAfter = 720 * time.Hour
	}
	if p.BypassCodesPerUser < 1 {
		p.BypassCodesPerUser = 1
	}
	if p.PhonesMin == 0 && p.PhonesMax == 0 {
		p.PhonesMin, p.PhonesMax = 1, 3
	}
	p.PhonesMin = max(0, p.PhonesMin)
	p.PhonesMax = max(p.PhonesMin, p.PhonesMax)
	return p
}

// User statuses as Duo writes them (a user's own status; a group's status
// may override it, and Duo does not show that in the user object).
const (
	StatusActive          = "active"
	StatusBypass          = "bypass"
	StatusDisabled        = "disabled"
	StatusLockedOut       = "locked out"
	StatusPendingDeletion = "pending deletion"
)

var userStatuses = []string{StatusActive, StatusBypass, StatusDisabled, StatusLockedOut, StatusPendingDeletion}

var lockoutReasons = []string{"Failed Attempts", "Not enrolled", "Admin disabled", "Admin API disabled"}

// userRec is the compact form of one user; everything else about the user
// is derived from (account seed, index).
type userRec struct {
	created   int64 // Unix s
	lastLogin int64 // Unix s; 0 = never (null)
	shared    int32 // index of the user whose first phone this user also has; -1 none
	status    uint8 // index into userStatuses
	enrolled  bool
	phones    uint8 // own phones
	tokens    uint8
	webauthn  uint8
}

// codeRec is the compact form of one bypass code.
type codeRec struct {
	created int64 // Unix s
	exp     int64 // Unix s; 0 = never expires (null)
	user    int32
	reuse   int32 // reuse_count; 0 = unlimited (null)
}

// population is an account's generated inventory.
type population struct {
	cfg   Population
	seed  uint64
	genAt int64 // Unix s: the clock when it was generated
	users []userRec
	codes []codeRec
}

// Salts of the inventory's rng streams.
const (
	saltUser     = 0x05e7
	saltPhone    = 0x0f07
	saltToken    = 0x70c7
	saltWebAuthn = 0x3eb7
	saltCode     = 0xb9c0
	saltGroup    = 0x6709
	saltEndpoint = 0xe9d0
	saltAdmin    = 0xad70
	saltInteg    = 0x1a7e
	saltPolicy   = 0x9011
	saltMember   = 0x3e3b
)

func (p *population) rng(salt uint64, i int) rng {
	return newRNG(p.seed^salt<<40, uint64(i))
}

func generate(cfg Population, seed uint64, now time.Time) *population {
	cfg = cfg.withDefaults()
	p := &population{cfg: cfg, seed: seed, genAt: now.Unix()}
	p.users = make([]userRec, max(0, cfg.Users))
	inactive := int64(cfg.InactiveAfter / time.Second)
	const day = 86400
	lastWithPhone := -1
	for i := range p.users {
		g := p.rng(saltUser, i)
		u := userRec{shared: -1}
		u.created = p.genAt - int64(day+g.intn(1000*day))
		switch x := g.float(); {
		case x < cfg.SharePendingDeletion:
			u.status = 4
		case x < cfg.SharePendingDeletion+cfg.ShareDisabled:
			u.status = 2
		case x < cfg.SharePendingDeletion+cfg.ShareDisabled+cfg.ShareLockedOut:
			u.status = 3
		case x < cfg.SharePendingDeletion+cfg.ShareDisabled+cfg.ShareLockedOut+cfg.ShareBypass:
			u.status = 1
		}
		u.enrolled = !g.chance(cfg.ShareUnenrolled)
		if g.chance(cfg.ShareInactive) {
			if !g.chance(cfg.ShareNeverLoggedIn) {
				u.lastLogin = p.genAt - inactive - 3600 - int64(g.intn(365*day))
			}
		} else {
			// Within the boundary by at least an hour, so a count taken
			// soon after generation agrees with the share.
			u.lastLogin = p.genAt - int64(g.intn(int(max(1, inactive-3600))))
		}
		if u.enrolled {
			u.phones = uint8(cfg.PhonesMin + g.intn(cfg.PhonesMax-cfg.PhonesMin+1))
			if g.chance(cfg.ShareTokens) {
				u.tokens = uint8(1 + g.intn(2))
			}
			if g.chance(cfg.ShareWebAuthn) {
				u.webauthn = uint8(1 + g.intn(2))
			}
			if lastWithPhone >= 0 && g.chance(cfg.ShareSharedPhone) {
				u.shared = int32(lastWithPhone)
			}
			if u.phones == 0 && u.tokens == 0 && u.webauthn == 0 && u.shared < 0 {
				u.webauthn = 1
			}
		}
		if u.phones > 0 {
			lastWithPhone = i
		}
		p.users[i] = u
		if g.chance(cfg.ShareBypassCodes) {
			n := 1 + g.intn(cfg.BypassCodesPerUser)
			for k := 0; k < n; k++ {
				c := codeRec{user: int32(i), created: p.genAt - int64(g.intn(90*day))}
				switch x := g.intn(10); {
				case x < 5: // never expires
				case x < 8:
					c.exp = p.genAt + int64(3600+g.intn(30*day))
				default:
					c.exp = p.genAt - int64(1+g.intn(30*day))
				}
				if g.intn(3) == 0 {
					c.reuse = int32(1 + g.intn(10))
				}
				p.codes = append(p.codes, c)
			}
		}
	}
	return p
}

// phone is one generated phone.
type phone struct {
	platform, typ, model string
	activated            bool
}

var phoneKinds = []phone{
	{platform: "Apple iOS", typ: "Mobile", model: "Apple iPhone 14", activated: true},
	{platform: "Apple iOS", typ: "Mobile", model: "Apple iPhone 12", activated: true},
	{platform: "Google Android", typ: "Mobile", model: "Google Pixel 8", activated: true},
	{platform: "Google Android", typ: "Mobile", model: "Samsung Galaxy S23", activated: true},
	{platform: "Generic Smartphone", typ: "Mobile", model: "Unknown", activated: false},
	{platform: "Unknown", typ: "Landline", model: "Unknown", activated: false},
}

// phoneOf is phone slot k of user i (the phone's identity is (i, k)).
func (p *population) phoneOf(i, k int) phone {
	g := p.rng(saltPhone, i*8+k)
	ph := pick(&g, phoneKinds)
	if ph.typ == "Mobile" && ph.activated && g.intn(6) == 0 {
		ph.activated = false // installed but not yet activated
	}
	return ph
}

var tokenTypes = []string{"h6", "h8", "yk", "d1"}

func (p *population) tokenType(i, k int) string {
	g := p.rng(saltToken, i*4+k)
	return pick(&g, tokenTypes)
}

// groupsOf lists the group indexes user i belongs to (0 to 3, distinct).
func (p *population) groupsOf(i int) []int {
	if p.cfg.Groups <= 0 {
		return nil
	}
	g := p.rng(saltMember, i)
	n := g.intn(4)
	var out []int
	for k := 0; k < n; k++ {
		x := g.intn(p.cfg.Groups)
		dup := false
		for _, y := range out {
			dup = dup || y == x
		}
		if !dup {
			out = append(out, x)
		}
	}
	return out
}

var groupStatuses = []string{"Active", "Active", "Active", "Active", "Active", "Active", "Active", "Active", "Bypass", "Disabled"}

func (p *population) groupStatus(j int) string {
	g := p.rng(saltGroup, j)
	return pick(&g, groupStatuses)
}

var osFamilies = []string{"Windows", "Windows", "Windows", "Mac OS X", "Mac OS X", "Linux", "iOS", "Android", "ChromeOS"}

func (p *population) endpointKind(j int) (osFamily, trusted string) {
	g := p.rng(saltEndpoint, j)
	osFamily = pick(&g, osFamilies)
	trusted = "yes"
	if g.intn(3) == 0 {
		trusted = "no"
	}
	return osFamily, trusted
}

var adminRoles = []string{"Owner", "Administrator", "Administrator", "Application Manager", "User Manager",
	"Help Desk", "Help Desk", "Billing", "Phishing Manager", "Read-only"}

func (p *population) adminRole(j int) string {
	if j == 0 {
		return "Owner" // every account has one
	}
	g := p.rng(saltAdmin, j)
	return pick(&g, adminRoles)
}

func (p *population) integrationType(j int) string {
	g := p.rng(saltInteg, j)
	return pick(&g, appDefs).typ
}

// appendID appends a Duo-style id: a prefix, filler from the seed, and the
// index in base 36 (so ids are distinct), 20 upper-case characters in all.
func (p *population) appendID(b []byte, prefix string, salt uint64, i int) []byte {
	const alpha = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	b = append(b, prefix...)
	fill := 20 - len(prefix) - 7
	g := p.rng(salt^0x1d, i)
	for k := 0; k < fill; k++ {
		b = append(b, alpha[g.intn(36)])
	}
	var digits [7]byte
	x := uint64(max(0, i))
	for k := 6; k >= 0; k-- {
		digits[k] = alpha[x%36]
		x /= 36
	}
	return append(b, digits[:]...)
}

// id is appendID as a string.
func (p *population) id(prefix string, salt uint64, i int) string {
	var buf [20]byte
	return string(p.appendID(buf[:0], prefix, salt, i))
}

// UserKey groups users by status and enrolment.
type UserKey struct {
	// Status is Duo's value: "active", "bypass", "disabled", "locked out"
	// or "pending deletion".
	Status   string
	Enrolled bool
}

// PhoneKey groups distinct phones.
type PhoneKey struct {
	Platform  string
	Activated bool
}

// EndpointKey groups Duo Desktop endpoints.
type EndpointKey struct {
	OSFamily string
	// Trusted is the endpoint's trusted_endpoint value ("yes" or "no").
	Trusted string
}

// InventoryCounts are an account's true inventory figures, computed from
// the generator's records, never from the JSON the simulator serves.
type InventoryCounts struct {
	// Users counts users by (status, is_enrolled); UsersTotal is their sum.
	Users      map[UserKey]int
	UsersTotal int
	// InactiveUsers counts, by status, users whose last_login is more
	// than inactiveAfter before now, or null.
	InactiveUsers map[string]int
	// BypassCodes is every listed code; ActiveBypassCodes those with no
	// expiration or one after now.
	BypassCodes, ActiveBypassCodes int
	// Phones counts distinct phones (by phone_id); EmbeddedPhones counts
	// them as they appear in users, a shared phone once per user.
	Phones         map[PhoneKey]int
	EmbeddedPhones int
	// Groups counts groups by status ("Active", "Bypass", "Disabled").
	Groups map[string]int
	// TelephonyCredits is telephony_credits_remaining.
	TelephonyCredits int
	// Tokens counts hardware tokens by type (h6, h8, yk, d1).
	Tokens              map[string]int
	WebAuthnCredentials int
	Endpoints           map[EndpointKey]int
	// Admins counts administrators by role.
	Admins map[string]int
	// Integrations counts integrations by type.
	Integrations map[string]int
	Policies     int
	// UserCount and UserPendingDeletionCount are the summary's user_count
	// and user_pending_deletion_count.
	UserCount, UserPendingDeletionCount int
}

func (p *population) counts(inactiveAfter time.Duration, now time.Time) InventoryCounts {
	c := InventoryCounts{
		Users:         map[UserKey]int{},
		InactiveUsers: map[string]int{},
		Phones:        map[PhoneKey]int{},
		Groups:        map[string]int{},
		Tokens:        map[string]int{},
		Endpoints:     map[EndpointKey]int{},
		Admins:        map[string]int{},
		Integrations:  map[string]int{},
	}
	nowS := now.Unix()
	limit := int64(inactiveAfter / time.Second)
	for i, u := range p.users {
		st := userStatuses[u.status]
		c.Users[UserKey{st, u.enrolled}]++
		c.UsersTotal++
		if u.lastLogin == 0 || nowS-u.lastLogin > limit {
			c.InactiveUsers[st]++
		}
		for k := 0; k < int(u.phones); k++ {
			ph := p.phoneOf(i, k)
			c.Phones[PhoneKey{ph.platform, ph.activated}]++
		}
		c.EmbeddedPhones += int(u.phones)
		if u.shared >= 0 {
			c.EmbeddedPhones++
		}
		for k := 0; k < int(u.tokens); k++ {
			c.Tokens[p.tokenType(i, k)]++
		}
		c.WebAuthnCredentials += int(u.webauthn)
		if u.status == 4 {
			c.UserPendingDeletionCount++
		} else {
			c.UserCount++
		}
	}
	for _, code := range p.codes {
		c.BypassCodes++
		if code.exp == 0 || code.exp > nowS {
			c.ActiveBypassCodes++
		}
	}
	for j := 0; j < p.cfg.Groups; j++ {
		c.Groups[p.groupStatus(j)]++
	}
	for j := 0; j < p.cfg.Endpoints; j++ {
		osf, tr := p.endpointKind(j)
		c.Endpoints[EndpointKey{osf, tr}]++
	}
	for j := 0; j < p.cfg.Admins; j++ {
		c.Admins[p.adminRole(j)]++
	}
	for j := 0; j < p.cfg.Integrations; j++ {
		c.Integrations[p.integrationType(j)]++
	}
	c.Policies = max(0, p.cfg.Policies)
	c.TelephonyCredits = p.cfg.TelephonyCredits
	return c
}
