// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duosim

import (
	"strconv"
	"strings"
	"time"
)

// Records carry every field shape docs/duo-api.md §3 lists, including the
// awkward ones: bools that may be "unknown", security_agents as an array,
// "unknown" or null, JSON inside strings, activity action as a string or an
// object, outcome as an object or a string, IPv6 and ip:port addresses,
// unicode names, null locations.

type user struct {
	key, name, username, email, alias string
	groups                            []string
}

type app struct{ key, name, typ string }

type admin struct{ key, name, email string }

type place struct{ city, state, country string }

type pools struct {
	users   []user
	apps    []app
	admins  []admin
	groups  []string
	akey    string
	winApps []string
	summary [5]int
	apiHost string
	// groupIDs maps a group name to the group_id the groups filter takes.
	groupIDs map[string]string
}

var personNames = []string{
	"Joe Smith", "Zoë Ångström", "José Müller", "李雷", "Ольга Петрова",
	"محمد علي", "Søren Kierkegård", "Nguyễn Văn An", "Renée O'Connor",
	`Antonín "Tony" Dvořák`, "田中 太郎", "Émile Zola", "Jürgen Groß",
	"Amanda Tucker", "Kwame Mensah", "Priya Ramanathan", "Lars Øverby",
	"Siobhán Ní Bhriain", "Chen Wei", "Ana\tTabbed", "Björk Guðmundsdóttir",
	"Dr. Ängel 👩‍💻 Coder", "Marie-Claire Dubois", "O'Neil \\ Backslash",
}

var groupNames = []string{"Engineering", "Finance", "Help Desk", "Contractors", "VPN Users", "Ärzte & Pflege", "営業"}

var appDefs = []struct{ name, typ string }{
	{"Cisco ASA SSL VPN", "sslvpn"}, {"Microsoft 365", "microsoft-365"}, {"Okta SSO", "okta"},
	{"Windows Logon", "rdp"}, {"Unix SSH", "unix"}, {"Web SDK – Intranet", "websdk"},
	{"Duo Admin Panel", "admin"}, {"AWS Console", "aws"}, {"Salesforce", "salesforce"},
	{"Citrix Gateway", "citrix-netscaler"}, {"Admin API", "adminapi"}, {"Epic Hyperspace ⚕", "epic"},
}

var places = []place{
	{"Ann Arbor", "Michigan", "United States"}, {"Zürich", "Zurich", "Switzerland"},
	{"São Paulo", "São Paulo", "Brazil"}, {"Kraków", "Lesser Poland", "Poland"},
	{"Tokyo", "Tokyo", "Japan"}, {"Reykjavík", "Capital Region", "Iceland"},
	{"Austin", "Texas", "United States"}, {"London", "England", "United Kingdom"},
	{"Bengaluru", "Karnataka", "India"}, {"Lagos", "Lagos", "Nigeria"},
}

var browsers = []struct{ name, version string }{
	{"Chrome", "118.0.5993.117"}, {"Firefox", "119.0"}, {"Safari", "17.1"},
	{"Edge Chromium", "119.0.2151.44"}, {"Mobile Safari", "16.6"},
}

var oses = []struct{ name, version string }{
	{"Windows", "10"}, {"Mac OS X", "14.1"}, {"iOS", "16.6.1"}, {"Android", "14"}, {"Linux", ""},
}

func newPools(seed uint64) *pools {
	r := newRNG(seed, 0x9001)
	p := &pools{akey: r.key("DA"), apiHost: DefaultHost}
	p.groups = groupNames
	for i, n := range personNames {
		uname := strings.ToLower(strings.Fields(strings.Map(func(c rune) rune {
			if c == '"' || c == '\'' || c == '\\' || c == '\t' {
				return ' '
			}
			return c
		}, n))[0]) + strconv.Itoa(i)
		u := user{
			key:      r.key("DU"),
			name:     n,
			username: uname,
			email:    uname + "@example.com",
		}
		switch i % 4 {
		case 0:
			u.alias = ""
		case 1:
			u.alias = "unknown"
		default:
			u.alias = uname + "@corp.example.com"
		}
		for _, g := range groupNames {
			if r.chance(0.3) {
				u.groups = append(u.groups, g)
			}
		}
		p.users = append(p.users, u)
	}
	for _, a := range appDefs {
		p.apps = append(p.apps, app{key: r.key("DI"), name: a.name, typ: a.typ})
	}
	for i := 0; i < 6; i++ {
		n := personNames[r.intn(len(personNames))]
		p.admins = append(p.admins, admin{key: r.key("DE"), name: n, email: "admin" + strconv.Itoa(i) + "@example.com"})
	}
	p.winApps = []string{"Windows Logon", "Windows Logon – Kiosks", "RDP Gateway"}
	p.summary = [5]int{len(p.admins), len(p.apps), 900 + r.intn(1000), len(p.users), r.intn(5)}
	p.groupIDs = groupIDsOf(seed, p.groups)
	return p
}

// render appends the record of r as served.
func (ac *Account) render(b []byte, ti *typeInfo, r rec) []byte {
	g := newRNG(ac.seed^ti.salt, r.h)
	t := time.UnixMicro(r.t).UTC()
	switch ti.name {
	case "authentication":
		return ac.renderAuth(b, &g, t, r.h, nil)
	case "administrator":
		return ac.renderAdmin(b, &g, t)
	case "telephony":
		return ac.renderTelephony(b, &g, t, r.h)
	case "activity":
		return ac.renderActivity(b, &g, t, r.h)
	case "offline_enrollment":
		return ac.renderOffline(b, &g, t)
	case "trust_monitor":
		return ac.renderTrustMonitor(b, &g, t, r.h)
	}
	return append(b, "{}"...)
}

// pyJSON writes a JSON object the way Python's json.dumps does by default
// (", " and ": " separators), for the JSON that Duo nests inside strings.
type pyJSON struct{ b []byte }

func (p *pyJSON) str(k, v string) *pyJSON {
	p.key(k)
	p.b = appendString(p.b, v)
	return p
}

func (p *pyJSON) raw(k, v string) *pyJSON {
	p.key(k)
	p.b = append(p.b, v...)
	return p
}

func (p *pyJSON) key(k string) {
	if len(p.b) == 0 {
		p.b = append(p.b, '{')
	} else {
		p.b = append(p.b, ", "...)
	}
	p.b = appendString(p.b, k)
	p.b = append(p.b, ": "...)
}

func (p *pyJSON) String() string {
	if len(p.b) == 0 {
		return "{}"
	}
	return string(p.b) + "}"
}

func (p *pools) ip(g *rng) (string, bool) {
	switch x := g.intn(20); {
	case x == 0:
		return "", false
	case x <= 3:
		return "2001:db8:" + strconv.FormatInt(int64(g.intn(0xffff)), 16) + "::" + strconv.FormatInt(int64(1+g.intn(0xfffe)), 16), true
	case x == 4:
		return "203.0.113." + strconv.Itoa(1+g.intn(254)) + ":" + strconv.Itoa(1024+g.intn(60000)), true
	case x <= 10:
		return "198.51.100." + strconv.Itoa(1+g.intn(254)), true
	default:
		return "192.0.2." + strconv.Itoa(1+g.intn(254)), true
	}
}

// appendLocation writes {city, country, state}: a known place, all nulls,
// or only the country.
func appendLocation(b []byte, g *rng) []byte {
	pl := pick(g, places)
	switch g.intn(10) {
	case 0:
		return append(b, `{"city":null,"country":null,"state":null}`...)
	case 1:
		b = append(b, `{"city":null,"country":`...)
		b = appendString(b, pl.country)
		return append(b, `,"state":null}`...)
	}
	b = append(b, `{"city":`...)
	b = appendString(b, pl.city)
	b = append(b, `,"country":`...)
	b = appendString(b, pl.country)
	b = append(b, `,"state":`...)
	b = appendString(b, pl.state)
	return append(b, '}')
}

// appendTriBool writes true, false or "unknown" (docs/duo-api.md §3.1).
func appendTriBool(b []byte, g *rng) []byte {
	switch g.intn(5) {
	case 0:
		return append(b, `"unknown"`...)
	case 1:
		return append(b, "false"...)
	}
	return append(b, "true"...)
}

func appendUUID(b []byte, g *rng) []byte {
	b = append(b, '"')
	b = idOf(b, g.next()&^(0xf<<12)|0x4<<12)
	return append(b, '"')
}

var (
	authFactors = []string{"duo_push", "phone_call", "passcode", "sms_passcode", "hardware_token",
		"webauthn_security_key", "remembered_device", "duo_mobile_passcode", "verified_duo_push", "bypass_code", "not_available"}
	successReasons = []string{"user_approved", "user_approved", "user_approved", "remembered_device", "trusted_network", "valid_passcode", "bypass_user"}
	deniedReasons  = []string{"user_mistake", "no_response", "location_restricted", "deny_unenrolled_user", "out_of_date", "invalid_passcode", "user_cancelled"}
)

// renderAuth writes an authentication log record (docs/duo-api.md §3.1).
func (ac *Account) renderAuth(b []byte, g *rng, t time.Time, h uint64, at *authAttrs) []byte {
	p := ac.pools
	u := pick(g, p.users)
	a := pick(g, p.apps)
	if at == nil {
		at = &authAttrs{}
	}
	*at = authAttrs{user: u.key, groups: u.groups, app: a.key}
	result, reason := "success", pick(g, successReasons)
	switch x := g.intn(100); {
	case x < 12:
		result, reason = "denied", pick(g, deniedReasons)
	case x < 15:
		result, reason = "failure", "error"
	case x < 17:
		result, reason = "error", "error"
	case x < 20:
		result, reason = "fraud", "user_marked_fraud"
	}

	b = append(b, `{"access_device":{"browser":`...)
	br := pick(g, browsers)
	hasBrowser := g.intn(8) != 0
	b = appendStringOrNull(b, br.name, hasBrowser)
	b = append(b, `,"browser_version":`...)
	b = appendStringOrNull(b, br.version, hasBrowser)
	b = append(b, `,"epkey":`...)
	b = appendStringOrNull(b, g.key("EP"), g.intn(3) == 0)
	b = append(b, `,"flash_version":`...)
	b = appendStringOrNull(b, "uninstalled", g.intn(2) == 0)
	b = append(b, `,"hostname":`...)
	b = appendStringOrNull(b, "wks-"+strconv.Itoa(g.intn(1000))+".corp.example.com", g.intn(4) == 0)
	b = append(b, `,"ip":`...)
	ip, ok := p.ip(g)
	b = appendStringOrNull(b, ip, ok)
	b = append(b, `,"is_encryption_enabled":`...)
	b = appendTriBool(b, g)
	b = append(b, `,"is_firewall_enabled":`...)
	b = appendTriBool(b, g)
	b = append(b, `,"is_password_set":`...)
	b = appendTriBool(b, g)
	b = append(b, `,"java_version":`...)
	b = appendStringOrNull(b, "uninstalled", g.intn(2) == 0)
	b = append(b, `,"location":`...)
	b = appendLocation(b, g)
	os := pick(g, oses)
	b = append(b, `,"os":`...)
	b = appendString(b, os.name)
	b = append(b, `,"os_version":`...)
	b = appendStringOrNull(b, os.version, os.version != "")
	b = append(b, `,"security_agents":`...)
	switch x := g.intn(10); {
	case x < 2:
		b = append(b, `"unknown"`...)
	case x < 3:
		b = append(b, "null"...)
	case x < 4:
		b = append(b, "[]"...)
	default:
		b = append(b, `[{"security_agent":"Cisco Secure Endpoint","version":"8.2.1.21650"}`...)
		if g.intn(2) == 0 {
			b = append(b, `,{"security_agent":"CrowdStrike Falcon","version":"7.05.17706.0"}`...)
		}
		b = append(b, ']')
	}
	b = append(b, '}')

	if g.intn(5) == 0 {
		b = append(b, `,"adaptive_trust_assessments":{"more_secure_auth":{"features_version":"3.0","model_version":"2022.07.19.001","policy_enabled":`...)
		b = appendBool(b, g.intn(2) == 0)
		b = append(b, `,"reason":"Normal level of trust; no detection of known attack pattern","trust_level":"NORMAL"},"remember_me":{"features_version":"3.0","model_version":"2022.12.23.001","policy_enabled":false,"reason":"Duo Push challenge issued","trust_level":"LOW"}}`...)
	}
	b = append(b, `,"alias":`...)
	b = appendString(b, u.alias)
	b = append(b, `,"application":{"key":`...)
	b = appendString(b, a.key)
	b = append(b, `,"name":`...)
	b = appendString(b, a.name)
	b = append(b, `},"auth_device":{"ip":`...)
	dip, ok := p.ip(g)
	b = appendStringOrNull(b, dip, ok && g.intn(2) == 0)
	switch g.intn(4) {
	case 0: // key absent
	case 1:
		b = append(b, `,"key":null`...)
	default:
		at.deviceKey = g.key("DP")
		b = append(b, `,"key":`...)
		b = appendString(b, at.deviceKey)
	}
	b = append(b, `,"location":`...)
	b = appendLocation(b, g)
	b = append(b, `,"name":`...)
	switch g.intn(4) {
	case 0:
		b = append(b, "null"...)
	case 1:
		at.deviceName = u.name + "’s iPhone"
		b = appendString(b, at.deviceName)
	default:
		at.deviceName = "+1 734-555-" + strconv.Itoa(1000+g.intn(9000))
		b = appendString(b, at.deviceName)
	}
	b = append(b, `},"email":`...)
	switch g.intn(6) {
	case 0:
		b = append(b, "null"...)
	case 1:
		b = append(b, `""`...)
	default:
		b = appendString(b, u.email)
	}
	b = append(b, `,"event_type":`...)
	switch x := g.intn(50); {
	case x == 0:
		b = append(b, "null"...)
	case x < 5:
		at.eventType = "enrollment"
		b = append(b, `"enrollment"`...)
	default:
		at.eventType = "authentication"
		b = append(b, `"authentication"`...)
	}
	b = append(b, `,"factor":`...)
	factor := pick(g, authFactors)
	if g.intn(30) != 0 {
		at.factor = factor
		b = appendString(b, factor)
	} else {
		b = append(b, "null"...)
	}
	b = append(b, `,"isotimestamp":"`...)
	b = isoMicro(b, t)
	b = append(b, `","ood_software":`...)
	b = appendStringOrNull(b, "Chrome", reason == "out_of_date")
	at.reason, at.result = reason, result
	b = append(b, `,"reason":`...)
	b = appendString(b, reason)
	b = append(b, `,"result":`...)
	b = appendString(b, result)
	b = append(b, `,"timestamp":`...)
	b = appendInt(b, t.Unix())
	switch g.intn(5) {
	case 0: // absent
	case 1:
		b = append(b, `,"trusted_endpoint_status":null`...)
	default:
		b = append(b, `,"trusted_endpoint_status":`...)
		b = appendString(b, pick(g, []string{"trusted", "not trusted", "unknown"}))
	}
	b = append(b, `,"txid":"`...)
	b = idOf(b, h)
	b = append(b, `","user":{"groups":[`...)
	for i, gr := range u.groups {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, gr)
	}
	b = append(b, `],"key":`...)
	b = appendString(b, u.key)
	b = append(b, `,"name":`...)
	b = appendString(b, u.username)
	return append(b, "}}"...)
}

var adminActions = []string{"admin_login", "admin_login", "admin_login_error", "user_update", "user_create",
	"user_delete", "group_create", "integration_update", "phone_create", "admin_create", "customer_update",
	"admin_self_activate", "bypass_create", "admin_2fa_error"}

// renderAdmin writes an administrator log record (docs/duo-api.md §3.2).
func (ac *Account) renderAdmin(b []byte, g *rng, t time.Time) []byte {
	p := ac.pools
	ad := pick(g, p.admins)
	u := pick(g, p.users)
	action := pick(g, adminActions)
	ip, _ := p.ip(g)
	var desc string
	descOK := true
	object, objOK := u.username, true
	switch action {
	case "admin_login":
		desc = (&pyJSON{}).str("device", "+1 734-555-0100").str("factor", "push").
			str("ip_address", ip).str("primary_auth_method", "Password").String()
		object, objOK = "", false
	case "admin_login_error", "admin_2fa_error":
		desc = (&pyJSON{}).str("email", ad.email).str("error", "Invalid password").str("ip_address", ip).String()
		object, objOK = "", false
	case "user_update":
		desc = (&pyJSON{}).str("notes", "moved to \"Finance\"\nticket #4412").str("realname", u.name).str("status", "Active").String()
	case "user_create":
		desc = (&pyJSON{}).str("email", u.email).str("realname", u.name).str("status", "Active").str("username", u.username).String()
	case "user_delete":
		descOK = false
	case "group_create":
		gr := pick(g, p.groups)
		desc = (&pyJSON{}).str("desc", "").str("name", gr).str("status", "Active").String()
		object = gr
	case "integration_update":
		a := pick(g, p.apps)
		desc = (&pyJSON{}).raw("enroll_policy", "null").str("name", a.name).str("type", a.typ).String()
		object = a.name
	case "phone_create":
		desc = (&pyJSON{}).str("extension", "").str("number", "+1 734-555-0199").str("platform", "Apple iOS").str("type", "Mobile").String()
		object = "+1 734-555-0199"
	case "admin_create":
		desc = (&pyJSON{}).str("email", ad.email).str("name", ad.name).str("role", "Help Desk").String()
		object = ad.name
	case "customer_update":
		desc = "Updated account settings: lockout threshold " + strconv.Itoa(3+g.intn(20)) + ", helpdesk message"
		object, objOK = "", false
	case "admin_self_activate":
		desc = ""
		object = ad.name
	case "bypass_create":
		desc = (&pyJSON{}).raw("bypass", `""`).raw("count", "1").raw("valid_secs", "3600").String()
	}
	b = append(b, `{"action":`...)
	b = appendString(b, action)
	b = append(b, `,"description":`...)
	b = appendStringOrNull(b, desc, descOK)
	b = append(b, `,"isotimestamp":"`...)
	b = isoSecond(b, t)
	b = append(b, `","object":`...)
	b = appendStringOrNull(b, object, objOK)
	b = append(b, `,"timestamp":`...)
	b = appendInt(b, t.Unix())
	b = append(b, `,"username":`...)
	switch g.intn(10) {
	case 0:
		b = append(b, `"API"`...)
	case 1:
		b = append(b, `"System"`...)
	case 2:
		b = append(b, `"AD Sync: Corp Directory"`...)
	case 3:
		b = append(b, `""`...)
	default:
		b = appendString(b, ad.name)
	}
	return append(b, '}')
}

// renderTelephony writes a telephony v2 item (docs/duo-api.md §3.3).
func (ac *Account) renderTelephony(b []byte, g *rng, t time.Time, h uint64) []byte {
	typ := "sms"
	credits := 1
	if g.intn(3) == 0 {
		typ, credits = "phone", 2+g.intn(3)
	}
	b = append(b, `{"context":`...)
	b = appendString(b, pick(g, []string{"authentication", "authentication", "enrollment", "administrator login", "verify"}))
	b = append(b, `,"credits":`...)
	b = appendInt(b, int64(credits))
	b = append(b, `,"phone":`...)
	if g.intn(4) == 0 {
		b = appendString(b, "+4930"+strconv.Itoa(1000000+g.intn(8999999)))
	} else {
		b = appendString(b, "+1734555"+strconv.Itoa(1000+g.intn(9000)))
	}
	b = append(b, `,"telephony_id":"`...)
	b = idOf(b, h)
	b = append(b, `","ts":"`...)
	b = isoMicro(b, t)
	b = append(b, `","txid":`...)
	b = appendUUID(b, g)
	b = append(b, `,"type":`...)
	b = appendString(b, typ)
	return append(b, '}')
}

var activityActions = []string{"admin_login", "user_update", "phone_create", "integration_create",
	"group_update", "policy_update", "admin_factor_restrictions_update", "user_delete"}

var actorTypes = []string{"admin", "admin", "admin", "adminapi", "admin_sync", "azure_sync", "deviceapi", "ldapsync", "system", "user"}

// appendActivityParty writes an actor/target object {details, key, name, type}.
func appendActivityParty(b []byte, details string, detailsOK bool, key, name, typ string) []byte {
	b = append(b, `{"details":`...)
	b = appendStringOrNull(b, details, detailsOK)
	b = append(b, `,"key":`...)
	b = appendString(b, key)
	b = append(b, `,"name":`...)
	b = appendString(b, name)
	b = append(b, `,"type":`...)
	b = appendString(b, typ)
	return append(b, '}')
}

// renderActivity writes an activity v2 item (docs/duo-api.md §3.4).
func (ac *Account) renderActivity(b []byte, g *rng, t time.Time, h uint64) []byte {
	p := ac.pools
	ad := pick(g, p.admins)
	u := pick(g, p.users)
	a := pick(g, p.apps)
	action := pick(g, activityActions)
	failed := g.intn(8) == 0

	b = append(b, `{"access_device":`...)
	if g.intn(6) == 0 {
		b = append(b, "null"...)
	} else {
		br := pick(g, browsers)
		os := pick(g, oses)
		b = append(b, `{"browser":`...)
		b = appendString(b, br.name)
		b = append(b, `,"browser_version":`...)
		b = appendString(b, br.version)
		b = append(b, `,"ip":{"address":`...)
		ip, ok := p.ip(g)
		b = appendStringOrNull(b, ip, ok)
		b = append(b, `},"location":`...)
		b = appendLocation(b, g)
		b = append(b, `,"os":`...)
		b = appendString(b, os.name)
		b = append(b, `,"os_version":`...)
		b = appendStringOrNull(b, os.version, os.version != "")
		b = append(b, '}')
	}
	b = append(b, `,"action":`...)
	if g.intn(3) == 0 {
		b = appendString(b, action) // older shape
	} else {
		b = append(b, `{"details":`...)
		if g.intn(2) == 0 {
			b = append(b, "null"...)
		} else {
			b = appendString(b, (&pyJSON{}).str("ip_address", "192.0.2.10").str("reason", "manual change").String())
		}
		b = append(b, `,"name":`...)
		b = appendString(b, action)
		b = append(b, '}')
	}
	b = append(b, `,"activity_id":"`...)
	b = idOf(b, h)
	b = append(b, `","actor":`...)
	at := pick(g, actorTypes)
	switch at {
	case "system":
		b = appendActivityParty(b, "", false, "", "System", at)
	case "user":
		b = appendActivityParty(b, (&pyJSON{}).str("email", u.email).str("status", "active").String(), true, u.key, u.name, at)
	default:
		det := (&pyJSON{}).str("created", "2021-03-04T15:16:17+00:00").raw("last_login", strconv.FormatInt(t.Unix()-int64(g.intn(86400)), 10)).
			str("role", pick(g, []string{"Owner", "Administrator", "Help Desk", "Read-only"})).str("status", "Active").String()
		b = appendActivityParty(b, det, true, ad.key, ad.name, at)
	}
	b = append(b, `,"akey":`...)
	b = appendString(b, p.akey)
	b = append(b, `,"application":`...)
	if g.intn(5) == 0 {
		b = append(b, "null"...)
	} else {
		b = append(b, `{"key":`...)
		b = appendString(b, a.key)
		b = append(b, `,"name":`...)
		b = appendString(b, a.name)
		b = append(b, `,"type":`...)
		b = appendString(b, a.typ)
		b = append(b, '}')
	}
	hasTarget := action != "admin_login"
	b = append(b, `,"old_target":`...)
	if hasTarget && (action == "user_update" || action == "group_update" || action == "policy_update") {
		b = appendActivityParty(b, (&pyJSON{}).str("status", "bypass").String(), true, u.key, u.username, "user")
	} else {
		b = append(b, "null"...)
	}
	b = append(b, `,"outcome":`...)
	res := "SUCCESS"
	if failed {
		res = "FAILURE"
	}
	if g.intn(4) == 0 {
		b = appendString(b, strings.ToLower(res))
	} else {
		b = append(b, `{"result":`...)
		b = appendString(b, res)
		b = append(b, '}')
	}
	b = append(b, `,"target":`...)
	if hasTarget {
		b = appendActivityParty(b, (&pyJSON{}).str("email", u.email).str("status", "active").String(), true, u.key, u.username, "user")
	} else {
		b = append(b, "null"...)
	}
	b = append(b, `,"ts":"`...)
	b = isoMicro(b, t)
	return append(b, `"}`...)
}

// renderOffline writes an offline enrollment record (docs/duo-api.md §3.5).
func (ac *Account) renderOffline(b []byte, g *rng, t time.Time) []byte {
	p := ac.pools
	u := pick(g, p.users)
	desc := (&pyJSON{}).str("factor", pick(g, []string{"duo_otp", "security_key"})).
		str("hostname", "WKS-"+strconv.Itoa(1000+g.intn(9000))).
		str("user_agent", "DuoCredProv/4.2.2.1 (Windows NT 10.0.19045; x64; Workstation)").String()
	b = append(b, `{"action":`...)
	b = appendString(b, pick(g, []string{"o2fa_user_provisioned", "o2fa_user_provisioned", "o2fa_user_deprovisioned", "o2fa_user_reenrolled"}))
	b = append(b, `,"description":`...)
	b = appendString(b, desc)
	b = append(b, `,"isotimestamp":"`...)
	b = isoSecond(b, t)
	b = append(b, `","object":`...)
	b = appendString(b, pick(g, p.winApps))
	b = append(b, `,"timestamp":`...)
	b = appendInt(b, t.Unix())
	b = append(b, `,"username":`...)
	b = appendString(b, u.username)
	return append(b, '}')
}

// tmType is the Trust Monitor event type of h, known without rendering so
// the type filter is cheap.
func (ac *Account) tmType(h uint64) string {
	switch x := mix64(h^ac.seed^0x7e7e) % 20; {
	case x < 12:
		return "auth"
	case x < 17:
		return "bypass_status"
	default:
		return "device_registration"
	}
}

// renderTrustMonitor writes a Trust Monitor event (docs/duo-api.md §3.6).
func (ac *Account) renderTrustMonitor(b []byte, g *rng, t time.Time, h uint64) []byte {
	p := ac.pools
	typ := ac.tmType(h)
	surfaced := t.UnixMilli()
	u := pick(g, p.users)
	ad := pick(g, p.admins)
	priority := g.intn(5) == 0

	b = append(b, '{')
	first := true
	if typ == "bypass_status" {
		b = appendKey(b, "bypass_status_enabled", first)
		first = false
		b = appendInt(b, surfaced-int64(g.intn(3600_000)))
		b = appendKey(b, "enabled_by", false)
		b = append(b, `{"key":`...)
		b = appendString(b, ad.key)
		b = append(b, `,"name":`...)
		b = appendString(b, ad.name)
		b = append(b, '}')
		b = appendKey(b, "enabled_for", false)
		b = append(b, `{"key":`...)
		b = appendString(b, u.key)
		b = append(b, `,"name":`...)
		b = appendString(b, u.username)
		b = append(b, '}')
	}
	b = appendKey(b, "explanations", first)
	switch typ {
	case "auth":
		pl := pick(g, places)
		b = append(b, `[{"summary":`...)
		b = appendString(b, u.username+" has not logged in from "+pl.country+" recently.")
		b = append(b, `,"type":"NEW_COUNTRY_CODE"}`...)
		if g.intn(2) == 0 {
			b = append(b, `,{"summary":`...)
			b = appendString(b, u.username+" has not accessed this application recently.")
			b = append(b, `,"type":"NEW_IKEY"}`...)
		}
		b = append(b, ']')
		b = appendKey(b, "from_common_netblock", false)
		b = appendBool(b, g.intn(2) == 0)
		b = appendKey(b, "from_new_user", false)
		b = appendBool(b, g.intn(4) == 0)
		b = appendKey(b, "low_risk_ip", false)
		b = appendBool(b, g.intn(3) == 0)
	case "bypass_status":
		b = append(b, `[{"summary":"A user was put into bypass status.","type":"BYPASS_STATUS_ENABLED"}]`...)
	default:
		b = append(b, `[{"summary":"The device's operating system is out of date.","type":"REGISTER_OS_OUTDATED"}]`...)
	}
	b = appendKey(b, "priority_event", false)
	b = appendBool(b, priority)
	b = appendKey(b, "priority_reasons", false)
	if priority {
		b = append(b, `[{"label":"CN","type":"country"}]`...)
	} else {
		b = append(b, "[]"...)
	}
	b = appendKey(b, "sekey", false)
	b = append(b, '"')
	b = sekeyOf(b, h)
	b = append(b, '"')
	processed := g.intn(3) == 0
	b = appendKey(b, "state", false)
	if processed {
		b = append(b, `"processed"`...)
	} else {
		b = append(b, `"new"`...)
	}
	b = appendKey(b, "state_updated_timestamp", false)
	if processed {
		b = appendInt(b, surfaced+int64(g.intn(600_000)))
	} else {
		b = append(b, "null"...)
	}
	if typ == "auth" {
		b = appendKey(b, "surfaced_auth", false)
		authT := t.Add(-time.Duration(60+g.intn(3600)) * time.Second).Add(time.Duration(g.intn(1e6)) * time.Microsecond)
		sub := newRNG(g.next(), h)
		b = ac.renderAuth(b, &sub, authT, sub.next()&^(0xf<<12)|0x4<<12, nil)
	}
	b = appendKey(b, "surfaced_timestamp", false)
	b = appendInt(b, surfaced)
	if typ == "auth" {
		b = appendKey(b, "triage_event_uri", false)
		b = append(b, `"https://admin-sim00000.duosecurity.com/trust-monitor?sekey=`...)
		b = sekeyOf(b, h)
		b = append(b, '"')
	}
	b = appendKey(b, "triaged_as_interesting", false)
	b = appendBool(b, processed && g.intn(2) == 0)
	b = appendKey(b, "type", false)
	b = appendString(b, typ)
	return append(b, '}')
}
