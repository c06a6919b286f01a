# AegisClaw policy template "standard": granted low and medium risk scopes run; high and
# critical ones, and unsigned skills, wait for a person. See policies/README.md for the input
# and output contract. Entry point: data.aegisclaw.standard.decision.
package aegisclaw.standard

ask contains {
	"rule": "standard.high-risk",
	"message": concat("", ["scope ", s.scope, " is ", effective_risk(s), " risk and needs approval"]),
	"scope": s.scope,
} if {
	some s in scopes
	at_least(s, "high")
}

ask contains {
	"rule": "standard.unsigned-skill",
	"message": concat("", ["skill ", skill.name, " is not signed by a trusted publisher and needs approval"]),
	"field": "skill",
} if {
	unsigned_skill
}

# BEGIN common (identical in strict.rego, standard.rego and permissive.rego; scripts/build-policies.sh checks it)
# Each template is one self-contained file so that it can be copied and edited on its own.

# The one output. Every helper below is total (defaults or else-chains ending unconditionally),
# so `decision` is defined for any input, and no complete rule can yield two different values.
decision := {"kind": kind, "risk": risk, "reasons": reasons}

# Deny overrides ask overrides allow.
kind := "deny" if {
	count(deny) > 0
} else := "ask" if {
	count(ask) > 0
} else := "allow"

# Sorted, so that OPA and the wasm build list reasons in the same order.
reasons := sort(deny) if {
	kind == "deny"
} else := sort(ask) if {
	kind == "ask"
} else := sort(allow)

risk := "critical" if {
	"critical" in risk_levels
} else := "high" if {
	"high" in risk_levels
} else := "medium" if {
	"medium" in risk_levels
} else := "low"

# The highest risk among requested scopes; malformed input is at least "high" because its
# real risk cannot be read.
risk_levels contains effective_risk(s) if some s in scopes

risk_levels contains "high" if count(malformed) > 0

risk_rank := {"low": 0, "medium": 1, "high": 2, "critical": 3}

# The least risk each scope kind carries. The Gate sends every scope's risk, but a caller can
# never lower it below this floor. tool.call is an agent's tool call (OpenClaw, MCP) that runs
# outside the sandbox, so an unknown tool can do anything.
kind_risk := {
	"files.read": "medium",
	"files.write": "high",
	"shell.exec": "medium",
	"net.outbound": "high",
	"secrets.read": "critical",
	"tool.call": "high",
}

effective_risk(s) := s.risk if {
	risk_rank[s.risk] >= risk_rank[kind_risk[s.kind]]
} else := kind_risk[s.kind]

at_least(s, level) if risk_rank[effective_risk(s)] >= risk_rank[level]

sources := {"cli", "tui", "web", "api", "ws", "mcp", "openclaw", "system"}

deny contains reason if some reason in malformed

deny contains {"rule": "lockdown", "message": "lockdown is active; unlock to run actions", "field": "lockdown"} if {
	input.lockdown == true
}

deny contains {
	"rule": "scope.not-granted",
	"message": concat("", ["scope ", s.scope, " is not granted"]),
	"scope": s.scope,
} if {
	some s in scopes
	s.granted == false
}

# Defence in depth: a scope marked granted must name a grant that the input also lists.
deny contains {
	"rule": "scope.not-granted",
	"message": concat("", ["scope ", s.scope, " is marked granted but no listed grant of kind ", s.kind, " backs it"]),
	"scope": s.scope,
} if {
	some s in scopes
	s.granted == true
	not granted_by_listed(s)
}

deny contains {
	"rule": "guardrail.signal",
	"message": concat("", ["guardrail signal ", g.kind, " has severity ", g.severity]),
	"field": "guardrails",
} if {
	some g in guardrails
	g.severity in {"high", "critical"}
}

# Requested scopes that passed validation; rules only ever look at these.
scopes contains s if {
	is_array(input.requested)
	some s in input.requested
	valid_scope(s)
}

grants contains [g.scope, g.kind] if {
	is_array(input.granted)
	some g in input.granted
	valid_grant(g)
}

granted_by_listed(s) if [s.grantedBy, s.kind] in grants

guardrails contains g if {
	some g in object.get(input, "guardrails", [])
	valid_signal(g)
}

skill := object.get(input, "skill", null) if is_object(input)

signed_skill if skill.signed == true

unsigned_skill if {
	is_object(skill)
	not signed_skill
}

allow contains {
	"rule": "scope.granted",
	"message": concat("", ["scope ", s.scope, " granted by ", s.grantedBy]),
	"scope": s.scope,
} if {
	some s in scopes
	granted_by_listed(s)
}

allow contains {"rule": "scope.none", "message": "the action requests no scope"} if count(scopes) == 0

# Input validation: anything unexpected denies, naming the field.
# Through a rule, because `not is_object(input)` is undefined (not true) when there is no input.
malformed contains bad("input", "the policy input must be a JSON object") if not input_is_object

input_is_object if is_object(input)

malformed contains bad("action", "action must be a non-empty string") if {
	is_object(input)
	not text(present("action"))
}

malformed contains bad("actor", "actor must be an object with a name and a known source") if {
	is_object(input)
	not valid_actor(present("actor"))
}

malformed contains bad("requested", "requested must be an array of scopes") if {
	is_object(input)
	not is_array(present("requested"))
}

malformed contains bad(
	concat("", ["requested[", format_int(i, 10), "]"]),
	"a requested scope needs scope, a known kind and risk, a boolean granted, and grantedBy when granted",
) if {
	is_array(input.requested)
	some i, s in input.requested
	not valid_scope(s)
}

malformed contains bad("granted", "granted must be an array of grants with scope and a known kind") if {
	is_object(input)
	not valid_grants(present("granted"))
}

malformed contains bad("lockdown", "lockdown must be a boolean") if {
	is_object(input)
	not is_boolean(present("lockdown"))
}

malformed contains bad("skill", "skill must be null or an object with a name") if {
	is_object(input)
	not valid_skill(skill)
}

malformed contains bad("guardrails", "guardrails must be an array of signals with a kind and a known severity") if {
	is_object(input)
	not valid_signals(object.get(input, "guardrails", []))
}

malformed contains bad(field, concat("", [field, " must be ", want])) if {
	is_object(input)
	some field, want in optional_types
	value := object.get(input, field, null)
	not is_null(value)
	not has_type(value, want)
}

optional_types := {"argv": "an array of strings", "image": "a string", "runtime": "a string", "history": "an object"}

has_type(value, "an array of strings") if {
	is_array(value)
	every v in value {
		is_string(v)
	}
}

has_type(value, "a string") if is_string(value)

has_type(value, "an object") if is_object(value)

# A required field, or null when missing. Validation reads fields through this because
# `not f(input.x)` is undefined, not true, when input.x is missing: OPA binds the reference
# outside the negation.
present(field) := object.get(input, field, null)

bad(field, message) := {"rule": "input.malformed", "message": message, "field": field}

text(x) if {
	is_string(x)
	x != ""
}

valid_actor(a) if {
	is_object(a)
	text(a.name)
	a.source in sources
}

valid_scope(s) if {
	is_object(s)
	text(s.scope)
	kind_risk[s.kind]
	is_number(risk_rank[s.risk])
	is_boolean(s.granted)
	valid_granted_by(s)
}

valid_granted_by(s) if s.granted == false

valid_granted_by(s) if {
	s.granted == true
	text(s.grantedBy)
}

valid_grants(gs) if {
	is_array(gs)
	every g in gs {
		valid_grant(g)
	}
}

valid_grant(g) if {
	is_object(g)
	text(g.scope)
	kind_risk[g.kind]
}

valid_skill(s) if is_null(s)

valid_skill(s) if {
	is_object(s)
	text(s.name)
}

valid_signals(gs) if {
	is_array(gs)
	every g in gs {
		valid_signal(g)
	}
}

valid_signal(g) if {
	is_object(g)
	text(g.kind)
	is_number(risk_rank[g.severity])
}

# END common
