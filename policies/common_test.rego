# Semantics shared by every template: lockdown, ungranted scopes, guardrail signals, malformed
# input, the risk of a decision and totality. Template-specific tests live in <name>_test.rego.
package aegisclaw.common_test

templates := ["strict", "standard", "permissive"]

# The example input of policies/README.md: one granted command.
base := {
	"action": "run",
	"actor": {"name": "alice", "source": "cli"},
	"argv": ["echo", "hi"],
	"image": "aegisclaw/base:busybox",
	"runtime": "docker",
	"requested": [scope("shell.exec:echo", "shell.exec", "medium", "shell.exec")],
	"granted": [grant("shell.exec", "shell.exec")],
	"skill": null,
	"lockdown": false,
	"guardrails": [],
	"history": {"recentDecisions": 3, "recentDenies": 0},
}

scope(text, kind, risk, granted_by) := {
	"scope": text, "kind": kind, "risk": risk,
	"granted": true, "grantedBy": granted_by,
}

ungranted(text, kind, risk) := {"scope": text, "kind": kind, "risk": risk, "granted": false}

grant(text, kind) := {"scope": text, "kind": kind, "risk": "medium"}

# An agent's tool call as the OpenClaw adapter sends it: the same contract with action
# "tool.call", no image or runtime, judged by its scopes like a run.
tool_call := object.union(object.remove(base, ["image", "runtime"]), {
	"action": "tool.call",
	"actor": {"name": "openclaw", "source": "openclaw"},
	"argv": ["session_status"],
	"requested": [scope("tool.call:session_status", "tool.call", "high", "tool.call:session_*")],
	"granted": [grant("tool.call:session_*", "tool.call")],
})

# The example input with some top-level fields replaced.
with_fields(patch) := object.union(base, patch)

# One granted scope of the given kind and risk, with its grant.
only(kind, risk) := with_fields({
	"requested": [scope(concat(":", [kind, "x"]), kind, risk, kind)],
	"granted": [grant(kind, kind)],
})

decide(template, doc) := d if {
	d := data.aegisclaw[template].decision with input as doc
}

has_reason(d, rule) if {
	some r in d.reasons
	r.rule == rule
}

denied_as(doc, rule) if {
	every t in templates {
		d := decide(t, doc)
		d.kind == "deny"
		has_reason(d, rule)
	}
}

malformed_field(doc, field) if {
	every t in templates {
		d := decide(t, doc)
		d.kind == "deny"
		d.risk in {"high", "critical"}
		some r in d.reasons
		r.rule == "input.malformed"
		r.field == field
	}
}

test_example_is_not_denied if {
	every t in templates {
		d := decide(t, base)
		d.kind in {"allow", "ask"}
		d.risk == "medium"
	}
}

test_lockdown_denies if denied_as(with_fields({"lockdown": true}), "lockdown")

test_lockdown_overrides_asks if {
	doc := with_fields({"lockdown": true, "skill": {"name": "s", "signed": false}})
	d := decide("standard", doc)
	d.reasons == [{"rule": "lockdown", "message": "lockdown is active; unlock to run actions", "field": "lockdown"}]
}

test_ungranted_scope_denies_naming_it if {
	doc := with_fields({"requested": [ungranted("files.read:/etc", "files.read", "medium")]})
	every t in templates {
		d := decide(t, doc)
		d.kind == "deny"
		some r in d.reasons
		r.rule == "scope.not-granted"
		r.scope == "files.read:/etc"
	}
}

test_granted_flag_without_listed_grant_denies if {
	denied_as(with_fields({"granted": []}), "scope.not-granted")
	denied_as(with_fields({"granted": [grant("shell.exec", "files.read")]}), "scope.not-granted")
}

test_high_guardrail_signals_deny if {
	denied_as(with_fields({"guardrails": [{"kind": "prompt-injection", "severity": "high"}]}), "guardrail.signal")
	denied_as(with_fields({"guardrails": [{"kind": "secret-leak", "severity": "critical"}]}), "guardrail.signal")
}

test_low_guardrail_signal_does_not_deny if {
	every t in templates {
		decide(t, with_fields({"guardrails": [{"kind": "prompt-injection", "severity": "low"}]})).kind != "deny"
	}
}

test_missing_input_denies if {
	every t in templates {
		d := data.aegisclaw[t].decision
		d.kind == "deny"
		d.reasons[0].field == "input"
	}
}

test_non_object_inputs_deny if {
	malformed_field("run", "input")
	malformed_field([base], "input")
	malformed_field(null, "input")
	malformed_field(7, "input")
}

test_missing_required_fields_deny if {
	every field in ["action", "actor", "requested", "granted", "lockdown"] {
		malformed_field(object.remove(base, [field]), field)
	}
}

test_wrong_field_types_deny if {
	malformed_field(with_fields({"action": ""}), "action")
	malformed_field(with_fields({"actor": {"name": "alice", "source": "telnet"}}), "actor")
	malformed_field(with_fields({"actor": "alice"}), "actor")
	malformed_field(with_fields({"requested": {"scope": "shell.exec"}}), "requested")
	malformed_field(with_fields({"granted": "shell.exec"}), "granted")
	malformed_field(with_fields({"granted": [{"scope": "shell.exec", "kind": "shell.run"}]}), "granted")
	malformed_field(with_fields({"lockdown": "false"}), "lockdown")
	malformed_field(with_fields({"skill": "git-status"}), "skill")
	malformed_field(with_fields({"skill": {"signed": true}}), "skill")
	malformed_field(with_fields({"guardrails": {}}), "guardrails")
	malformed_field(with_fields({"guardrails": [{"kind": "x", "severity": "extreme"}]}), "guardrails")
	malformed_field(with_fields({"argv": "echo hi"}), "argv")
	malformed_field(with_fields({"argv": ["echo", 1]}), "argv")
	malformed_field(with_fields({"image": 1}), "image")
	malformed_field(with_fields({"runtime": false}), "runtime")
	malformed_field(with_fields({"history": []}), "history")
}

test_malformed_requested_scopes_deny_naming_the_index if {
	bad := [
		"shell.exec",
		{"kind": "shell.exec", "risk": "medium", "granted": false},
		{"scope": "x", "kind": "shell.run", "risk": "medium", "granted": false},
		{"scope": "x", "kind": "shell.exec", "risk": "severe", "granted": false},
		{"scope": "x", "kind": "shell.exec", "risk": "medium", "granted": "yes"},
		{"scope": "x", "kind": "shell.exec", "risk": "medium", "granted": true},
	]
	every s in bad {
		malformed_field(with_fields({"requested": [scope("files.read:/a", "files.read", "low", "files.read"), s]}), "requested[1]")
	}
}

test_optional_fields_may_be_missing_or_null if {
	doc := object.remove(base, ["argv", "image", "runtime", "skill", "guardrails", "history"])
	decide("standard", doc).kind == "allow"
	decide("standard", with_fields({"image": null, "history": null})).kind == "allow"
}

test_unknown_fields_are_ignored if decide("standard", with_fields({"future": {"x": 1}})).kind == "allow"

test_risk_is_the_highest_requested if {
	doc := with_fields({
		"requested": [
			scope("files.read:/a", "files.read", "medium", "files.read"),
			scope("net.outbound:example.org", "net.outbound", "high", "net.outbound"),
		],
		"granted": [grant("files.read", "files.read"), grant("net.outbound", "net.outbound")],
	})
	every t in templates {
		decide(t, doc).risk == "high"
	}
}

test_risk_is_low_without_scopes if decide("standard", with_fields({"requested": []})).risk == "low"

test_declared_risk_cannot_go_below_the_kind_floor if {
	decide("permissive", only("secrets.read", "low")).risk == "critical"
	decide("permissive", only("files.write", "medium")).risk == "high"
}

test_declared_risk_may_raise_the_floor if decide("permissive", only("files.read", "high")).risk == "high"

test_every_decision_has_reasons if {
	docs := [base, null, "x", with_fields({"requested": []}), with_fields({"lockdown": true}), only("secrets.read", "critical")]
	every t in templates {
		every doc in docs {
			count(decide(t, doc).reasons) > 0
		}
	}
}

test_tool_call_is_judged_by_its_scopes if {
	every t in templates {
		d := decide(t, tool_call)
		d.kind in {"allow", "ask"}
		d.risk == "high"
	}
}

test_ungranted_tool_call_denies_naming_it if {
	doc := object.union(tool_call, {"requested": [ungranted("tool.call:cron", "tool.call", "high")]})
	every t in templates {
		d := decide(t, doc)
		d.kind == "deny"
		d.reasons == [{"rule": "scope.not-granted", "message": "scope tool.call:cron is not granted", "scope": "tool.call:cron"}]
	}
}

test_tool_call_needs_a_listed_tool_call_grant if {
	denied_as(object.union(tool_call, {"granted": [grant("tool.call:session_*", "shell.exec")]}), "scope.not-granted")
	denied_as(object.union(tool_call, {"granted": [grant("tool.call:other_*", "tool.call")]}), "scope.not-granted")
}

test_tool_call_risk_is_at_least_high if {
	every t in templates {
		decide(t, only("tool.call", "low")).risk == "high"
		decide(t, only("tool.call", "critical")).risk == "critical"
	}
}

test_tool_call_lockdown_denies if denied_as(object.union(tool_call, {"lockdown": true}), "lockdown")
