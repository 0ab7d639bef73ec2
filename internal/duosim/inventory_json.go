// Copyright The otelcol-duo Authors
// SPDX-License-Identifier: Apache-2.0

package duosim

import (
	"strconv"
	"strings"
	"time"
)

// Object shapes follow INVENTORY.md 1.2-1.5 (Duo's documentation as copied
// by its clients, and others' fixtures). Keys are written sorted.

// appendIDStr appends a JSON string holding p.appendID.
func (p *population) appendIDStr(b []byte, prefix string, salt uint64, i int) []byte {
	b = append(b, '"')
	b = p.appendID(b, prefix, salt, i)
	return append(b, '"')
}

func appendUnixOrNull(b []byte, v int64) []byte {
	if v == 0 {
		return append(b, "null"...)
	}
	return appendInt(b, v)
}

func (p *population) username(i int) string { return "user" + pad(i, 5) }

func pad(i, n int) string {
	s := strconv.Itoa(i)
	for len(s) < n {
		s = "0" + s
	}
	return s
}

func (p *population) realname(i int) string {
	g := p.rng(saltUser^0x4e, i)
	return pick(&g, personNames)
}

func renderUser(_ *Account, p *population, b []byte, i int) []byte {
	u := p.users[i]
	uname := p.username(i)
	real := p.realname(i)
	first, last, _ := strings.Cut(real, " ")
	g := p.rng(saltUser^0xa1, i)

	b = append(b, `{"alias1":`...)
	b = appendStringOrNull(b, uname+".alt", i%5 == 0)
	b = append(b, `,"alias2":null,"alias3":null,"alias4":null,"aliases":{`...)
	if i%5 == 0 {
		b = append(b, `"alias1":`...)
		b = appendString(b, uname+".alt")
	}
	b = append(b, `},"created":`...)
	b = appendInt(b, u.created)
	b = append(b, `,"custom_attributes":{},"desktoptokens":[],"email":`...)
	b = appendString(b, uname+"@example.com")
	b = append(b, `,"enable_auto_prompt":`...)
	b = appendBool(b, g.intn(2) == 0)
	b = append(b, `,"external_id":`...)
	b = appendStringOrNull(b, p.id("", saltUser^0xe1, i), g.intn(3) == 0)
	b = append(b, `,"firstname":`...)
	b = appendString(b, first)
	b = append(b, `,"groups":[`...)
	for k, j := range p.groupsOf(i) {
		if k > 0 {
			b = append(b, ',')
		}
		b = renderGroup(p, b, j)
	}
	b = append(b, `],"is_enrolled":`...)
	b = appendBool(b, u.enrolled)
	b = append(b, `,"last_directory_sync":`...)
	if g.intn(3) == 0 {
		b = appendInt(b, p.genAt-int64(g.intn(86400)))
	} else {
		b = append(b, "null"...)
	}
	b = append(b, `,"last_login":`...)
	b = appendUnixOrNull(b, u.lastLogin)
	b = append(b, `,"lastname":`...)
	b = appendString(b, last)
	b = append(b, `,"lockout_reason":`...)
	if u.status == 3 {
		b = appendString(b, pick(&g, lockoutReasons))
	} else {
		b = append(b, "null"...)
	}
	b = append(b, `,"notes":"","phones":[`...)
	n := 0
	for k := 0; k < int(u.phones); k++ {
		if n > 0 {
			b = append(b, ',')
		}
		b = renderPhone(p, b, i, k)
		n++
	}
	if u.shared >= 0 {
		if n > 0 {
			b = append(b, ',')
		}
		b = renderPhone(p, b, int(u.shared), 0)
	}
	b = append(b, `],"realname":`...)
	b = appendString(b, real)
	b = append(b, `,"status":`...)
	b = appendString(b, userStatuses[u.status])
	b = append(b, `,"tokens":[`...)
	for k := 0; k < int(u.tokens); k++ {
		if k > 0 {
			b = append(b, ',')
		}
		typ := p.tokenType(i, k)
		b = append(b, `{"serial":`...)
		b = appendString(b, strings.ToUpper(typ)+"-"+pad(i*4+k, 8))
		b = append(b, `,"token_id":`...)
		b = p.appendIDStr(b, "DH", saltToken, i*4+k)
		b = append(b, `,"totp_step":`...)
		if typ == "h6" || typ == "h8" {
			b = append(b, "30"...)
		} else {
			b = append(b, "null"...)
		}
		b = append(b, `,"type":`...)
		b = appendString(b, typ)
		b = append(b, '}')
	}
	b = append(b, `],"u2ftokens":[],"user_id":`...)
	b = p.appendIDStr(b, "DU", saltUser, i)
	b = append(b, `,"username":`...)
	b = appendString(b, uname)
	b = append(b, `,"webauthncredentials":[`...)
	for k := 0; k < int(u.webauthn); k++ {
		if k > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"credential_name":`...)
		b = appendString(b, pick(&g, []string{"YubiKey 5 NFC", "Touch ID", "Windows Hello", "Passkey"}))
		b = append(b, `,"date_added":`...)
		b = appendInt(b, u.created+int64(g.intn(86400*30)))
		b = append(b, `,"label":"Security Key","webauthnkey":`...)
		b = p.appendIDStr(b, "WA", saltWebAuthn, i*4+k)
		b = append(b, '}')
	}
	return append(b, "]}"...)
}

// renderPhone writes phone slot k of user i.
func renderPhone(p *population, b []byte, i, k int) []byte {
	ph := p.phoneOf(i, k)
	g := p.rng(saltPhone^0x77, i*8+k)
	b = append(b, `{"activated":`...)
	b = appendBool(b, ph.activated)
	b = append(b, `,"capabilities":`...)
	switch {
	case ph.typ == "Landline":
		b = append(b, `["phone"]`...)
	case ph.activated:
		b = append(b, `["auto","push","sms","phone","mobile_otp"]`...)
	default:
		b = append(b, `["sms","phone"]`...)
	}
	b = append(b, `,"encrypted":`...)
	b = appendString(b, pick(&g, []string{"Encrypted", "Unencrypted", ""}))
	b = append(b, `,"extension":"","fingerprint":`...)
	b = appendString(b, pick(&g, []string{"Configured", "Disabled", ""}))
	b = append(b, `,"last_seen":`...)
	if ph.activated {
		b = time.Unix(p.genAt-int64(g.intn(86400*20)), 0).UTC().AppendFormat(append(b, '"'), "2006-01-02T15:04:05")
		b = append(b, '"')
	} else {
		b = append(b, `""`...)
	}
	b = append(b, `,"model":`...)
	b = appendString(b, ph.model)
	b = append(b, `,"name":`...)
	b = appendString(b, pick(&g, []string{"", "", "work phone", "Personal"}))
	b = append(b, `,"number":"+1`...)
	b = appendInt(b, 2000000000+int64(i*8+k))
	b = append(b, `","phone_id":`...)
	b = p.appendIDStr(b, "DP", saltPhone, i*8+k)
	b = append(b, `,"platform":`...)
	b = appendString(b, ph.platform)
	b = append(b, `,"postdelay":null,"predelay":null,"screenlock":`...)
	b = appendString(b, pick(&g, []string{"Locked", "Unlocked", ""}))
	b = append(b, `,"sms_passcodes_sent":`...)
	b = appendBool(b, g.intn(4) == 0)
	b = append(b, `,"tampered":`...)
	b = appendString(b, pick(&g, []string{"Not tampered", "Not tampered", "Tampered", ""}))
	b = append(b, `,"type":`...)
	b = appendString(b, ph.typ)
	return append(b, '}')
}

func (p *population) groupName(j int) string {
	return groupNames[j%len(groupNames)] + " " + strconv.Itoa(j/len(groupNames)+1)
}

// renderGroup writes group j as Duo embeds it in a user and lists it.
func renderGroup(p *population, b []byte, j int) []byte {
	b = append(b, `{"desc":`...)
	b = appendString(b, "Members of "+p.groupName(j))
	b = append(b, `,"group_id":`...)
	b = p.appendIDStr(b, "DG", saltGroup, j)
	// The per-factor flags are legacy and always false (INVENTORY.md 1.2).
	b = append(b, `,"mobile_otp_enabled":false,"name":`...)
	b = appendString(b, p.groupName(j))
	b = append(b, `,"push_enabled":false,"sms_enabled":false,"status":`...)
	b = appendString(b, p.groupStatus(j))
	return append(b, `,"voice_enabled":false}`...)
}

func renderGroupItem(_ *Account, p *population, b []byte, j int) []byte { return renderGroup(p, b, j) }

func renderBypassCode(_ *Account, p *population, b []byte, j int) []byte {
	c := p.codes[j]
	i := int(c.user)
	u := p.users[i]
	b = append(b, `{"admin_email":`...)
	b = appendString(b, "admin"+strconv.Itoa(j%max(1, p.cfg.Admins))+"@example.com")
	b = append(b, `,"bypass_code_id":`...)
	b = p.appendIDStr(b, "DB", saltCode, j)
	b = append(b, `,"created":`...)
	b = appendInt(b, c.created)
	b = append(b, `,"expiration":`...)
	b = appendUnixOrNull(b, c.exp)
	b = append(b, `,"reuse_count":`...)
	if c.reuse == 0 {
		b = append(b, "null"...)
	} else {
		b = appendInt(b, int64(c.reuse))
	}
	b = append(b, `,"user":{"created":`...)
	b = appendInt(b, u.created)
	b = append(b, `,"email":`...)
	b = appendString(b, p.username(i)+"@example.com")
	b = append(b, `,"last_login":`...)
	b = appendUnixOrNull(b, u.lastLogin)
	b = append(b, `,"realname":`...)
	b = appendString(b, p.realname(i))
	b = append(b, `,"status":`...)
	b = appendString(b, userStatuses[u.status])
	b = append(b, `,"user_id":`...)
	b = p.appendIDStr(b, "DU", saltUser, i)
	b = append(b, `,"username":`...)
	b = appendString(b, p.username(i))
	return append(b, "}}"...)
}

func renderEndpoint(_ *Account, p *population, b []byte, j int) []byte {
	osf, trusted := p.endpointKind(j)
	g := p.rng(saltEndpoint^0x55, j)
	owner := 0
	if len(p.users) > 0 {
		owner = g.intn(len(p.users))
	}
	onOff := []string{"On", "On", "Off", "Unknown"}
	br := pick(&g, browsers)
	b = append(b, `{"browsers":[{"browser_family":`...)
	b = appendString(b, br.name)
	b = append(b, `,"browser_version":`...)
	b = appendString(b, br.version)
	b = append(b, `,"flash_version":"uninstalled","java_version":"uninstalled"}],"computer_sid":"","cpu_id":"","device_id":"","device_identifier":"","device_identifier_type":"","device_name":`...)
	b = appendString(b, "WKS-"+pad(j, 5))
	b = append(b, `,"device_udid":"","device_username":"","device_username_type":"","disk_encryption_status":`...)
	b = appendString(b, pick(&g, onOff))
	b = append(b, `,"domain_sid":"","email":`...)
	b = appendString(b, p.username(owner)+"@example.com")
	b = append(b, `,"epkey":`...)
	b = p.appendIDStr(b, "EP", saltEndpoint, j)
	b = append(b, `,"firewall_status":`...)
	b = appendString(b, pick(&g, onOff))
	b = append(b, `,"hardware_uuid":"","health_app_client_version":"2.30.0","health_data_last_collected":`...)
	b = appendInt(b, p.genAt-int64(g.intn(86400*7)))
	b = append(b, `,"last_updated":`...)
	b = appendInt(b, p.genAt-int64(g.intn(86400*7)))
	b = append(b, `,"machine_guid":"","model":`...)
	b = appendString(b, pick(&g, []string{"MacBook Pro", "ThinkPad X1", "Latitude 7440", "Surface Laptop", ""}))
	b = append(b, `,"os_build":"","os_family":`...)
	b = appendString(b, osf)
	b = append(b, `,"os_version":`...)
	b = appendString(b, pick(&g, []string{"10.0.22631", "14.4.1", "6.5", "17.4", "14"}))
	b = append(b, `,"password_status":`...)
	b = appendString(b, pick(&g, []string{"Set", "Unset", "Unknown"}))
	b = append(b, `,"security_agents":`...)
	if g.intn(2) == 0 {
		b = append(b, `[{"security_agent":"Cisco Secure Endpoint","version":"8.2.1.21650"}]`...)
	} else {
		b = append(b, "[]"...)
	}
	b = append(b, `,"trusted_endpoint":`...)
	b = appendString(b, trusted)
	b = append(b, `,"type":"Desktop","username":`...)
	b = appendString(b, p.username(owner))
	return append(b, '}')
}

func renderAdminItem(_ *Account, p *population, b []byte, j int) []byte {
	g := p.rng(saltAdmin^0x3, j)
	b = append(b, `{"admin_id":`...)
	b = p.appendIDStr(b, "DE", saltAdmin, j)
	b = append(b, `,"admin_units":[],"created":`...)
	b = appendInt(b, p.genAt-int64(86400+g.intn(86400*900)))
	b = append(b, `,"email":`...)
	b = appendString(b, "admin"+strconv.Itoa(j)+"@example.com")
	b = append(b, `,"last_directory_sync":null,"last_login":`...)
	b = appendUnixOrNull(b, int64(g.intn(2))*(p.genAt-int64(g.intn(86400*60))))
	b = append(b, `,"name":`...)
	b = appendString(b, pick(&g, personNames))
	b = append(b, `,"phone":"+1`...)
	b = appendInt(b, 3000000000+int64(j))
	b = append(b, `","restricted_by_admin_units":false,"role":`...)
	b = appendString(b, p.adminRole(j))
	b = append(b, `,"status":`...)
	b = appendString(b, pick(&g, []string{"Active", "Active", "Active", "Disabled", "Pending Activation"}))
	return append(b, '}')
}

// integrationSecret is integration j's secret_key: 40 characters starting
// with IntegrationSecretPrefix.
func integrationSecret(p *population, j int) []byte {
	id := p.appendID(nil, "", saltInteg^0x5ec, j)
	b := make([]byte, 0, 40)
	b = append(b, IntegrationSecretPrefix...)
	for _, c := range id {
		if len(b) == 40 {
			break
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b = append(b, c)
	}
	for len(b) < 40 {
		b = append(b, '0')
	}
	return b
}

func renderIntegration(_ *Account, p *population, b []byte, j int) []byte {
	g := p.rng(saltInteg^0x9, j)
	def := appDefs[0]
	for _, d := range appDefs {
		if d.typ == p.integrationType(j) {
			def = d
			break
		}
	}
	b = append(b, `{"enroll_policy":"enroll","greeting":"","groups_allowed":[],"integration_key":`...)
	b = p.appendIDStr(b, "DI", saltInteg, j)
	b = append(b, `,"ip_whitelist":[],"name":`...)
	b = appendString(b, def.name+" "+strconv.Itoa(j+1))
	b = append(b, `,"networks_for_api_access":"","notes":"","policy_key":`...)
	if p.cfg.Policies > 1 && g.intn(2) == 0 {
		b = p.appendIDStr(b, "PO", saltPolicy, 1+g.intn(p.cfg.Policies-1))
	} else {
		b = append(b, `""`...)
	}
	b = append(b, `,"prompt_v4_enabled":1,"secret_key":`...)
	b = appendString(b, string(integrationSecret(p, j)))
	b = append(b, `,"type":`...)
	b = appendString(b, def.typ)
	return append(b, `,"username_normalization_policy":"None"}`...)
}

func (p *population) policyName(j int) string {
	if j == 0 {
		return "Global Policy"
	}
	return "Policy " + strconv.Itoa(j)
}

// renderPolicy writes policy j; only enabled sections are present
// (INVENTORY.md 1.4), so the sections vary.
func renderPolicy(_ *Account, p *population, b []byte, j int) []byte {
	g := p.rng(saltPolicy^0x2, j)
	b = append(b, `{"is_global_policy":`...)
	b = appendBool(b, j == 0)
	b = append(b, `,"policy_key":`...)
	b = p.appendIDStr(b, "PO", saltPolicy, j)
	b = append(b, `,"policy_name":`...)
	b = appendString(b, p.policyName(j))
	b = append(b, `,"sections":{`...)
	first := true
	sec := func(name, body string) {
		b = appendKey(b, name, first)
		first = false
		b = append(b, body...)
	}
	if j == 0 || g.intn(2) == 0 {
		sec("authentication_methods", `{"allowed_auth_list":["duo-passcode","duo-push","hardware-token","webauthn-platform","webauthn-roaming"],"auto_retry_sms":true,"blocked_auth_list":["phonecall","sms"],"require_verified_push":true,"verified_push_digits":3}`)
	}
	if j == 0 || g.intn(2) == 0 {
		sec("authentication_policy", `{"require_2fa":`+strconv.FormatBool(g.intn(5) != 0)+`}`)
	}
	if j == 0 || g.intn(3) == 0 {
		sec("duo_desktop", `{"enforce_encryption":["windows","macos"],"enforce_firewall":["windows"],"requires_duo_desktop":`+strconv.FormatBool(g.intn(2) == 0)+`}`)
	}
	if j == 0 {
		sec("new_user", `{"new_user_behavior":"enroll"}`)
	}
	if g.intn(2) == 0 {
		sec("remembered_devices", `{"browser_apps":{"enabled":true,"remember_method":"per_app","time_to_remember":{"unit":"days","value":7}}}`)
	}
	if g.intn(3) == 0 {
		sec("trusted_endpoints", `{"trusted_endpoint_checking":"require-trusted"}`)
	}
	return append(b, "}}"...)
}

// renderPolicySummary writes where each policy applies. The field names
// follow others' code, not Duo's documentation [U]; the summary is not
// paged and says whether it was truncated.
func renderPolicySummary(_ *Account, p *population, b []byte) []byte {
	n := max(0, p.cfg.Policies)
	b = append(b, `{"global_policy":`...)
	if n > 0 {
		b = append(b, `{"policy_key":`...)
		b = p.appendIDStr(b, "PO", saltPolicy, 0)
		b = append(b, `,"policy_name":"Global Policy"}`...)
	} else {
		b = append(b, "null"...)
	}
	b = append(b, `,"policies":[`...)
	for j := 1; j < n; j++ {
		if j > 1 {
			b = append(b, ',')
		}
		g := p.rng(saltPolicy^0x3, j)
		b = append(b, `{"policy_applies_to":[`...)
		if p.cfg.Integrations > 0 {
			b = append(b, `{"apply_type":"app","integration_key":`...)
			b = p.appendIDStr(b, "DI", saltInteg, g.intn(p.cfg.Integrations))
			b = append(b, '}')
			if p.cfg.Groups > 0 && g.intn(2) == 0 {
				b = append(b, `,{"apply_type":"group_app","group_id":`...)
				b = p.appendIDStr(b, "DG", saltGroup, g.intn(p.cfg.Groups))
				b = append(b, `,"integration_key":`...)
				b = p.appendIDStr(b, "DI", saltInteg, g.intn(p.cfg.Integrations))
				b = append(b, '}')
			}
		}
		b = append(b, `],"policy_key":`...)
		b = p.appendIDStr(b, "PO", saltPolicy, j)
		b = append(b, `,"policy_name":`...)
		b = appendString(b, p.policyName(j))
		b = append(b, '}')
	}
	b = append(b, `],"policy_count":`...)
	b = appendInt(b, int64(n))
	return append(b, `,"response_is_truncated":false}`...)
}

// renderSummary writes /admin/v1/info/summary (API.md 3.7). user_count
// leaves out the users in the trash, which user_pending_deletion_count
// counts [U].
func renderSummary(_ *Account, p *population, b []byte) []byte {
	pending := 0
	for _, u := range p.users {
		if u.status == 4 {
			pending++
		}
	}
	b = append(b, `{"admin_count":`...)
	b = appendInt(b, int64(max(0, p.cfg.Admins)))
	b = append(b, `,"integration_count":`...)
	b = appendInt(b, int64(max(0, p.cfg.Integrations)))
	b = append(b, `,"telephony_credits_remaining":`...)
	b = appendInt(b, int64(p.cfg.TelephonyCredits))
	b = append(b, `,"user_count":`...)
	b = appendInt(b, int64(len(p.users)-pending))
	b = append(b, `,"user_pending_deletion_count":`...)
	b = appendInt(b, int64(pending))
	return append(b, '}')
}

// renderSettings writes /admin/v1/settings (INVENTORY.md 1.5).
func renderSettings(a *Account, _ *population, b []byte) []byte {
	name := a.Name()
	if name == "" {
		name = "Simulated Parent"
	}
	b = append(b, `{"caller_id":"","email_activity_notification_enabled":false,"enrollment_universal_prompt_enabled":true,"fraud_email":"security@example.com","fraud_email_enabled":true,"helpdesk_bypass":"limit","helpdesk_bypass_expiration":60,"helpdesk_can_send_enroll_email":false,"inactive_user_expiration":30,"keypress_confirm":"#","keypress_fraud":"0","language":"EN","lockout_expire_duration":null,"lockout_threshold":10,"log_retention_days":null,"minimum_password_length":12,"name":`...)
	b = appendString(b, name)
	return append(b, `,"password_requires_lower_alpha":true,"password_requires_numeric":true,"password_requires_special":false,"password_requires_upper_alpha":true,"pending_deletion_days":7,"push_activity_notification_enabled":false,"security_checkup_enabled":true,"sms_batch":1,"sms_expiration":0,"sms_message":"","sms_refresh":0,"telephony_warning_min":100,"timezone":"UTC","unenrolled_user_lockout_threshold":0,"user_managers_can_put_users_in_bypass":true,"user_telephony_cost_max":20}`...)
}
