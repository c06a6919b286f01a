# The strict template: commands, network and high/critical scopes ask; unsigned skills and
# actions without scopes are denied. Shared helpers and semantics: common_test.rego.
package aegisclaw.strict_test

import data.aegisclaw.common_test.base
import data.aegisclaw.common_test.only
import data.aegisclaw.common_test.tool_call
import data.aegisclaw.common_test.with_fields

decide(doc) := d if {
	d := data.aegisclaw.strict.decision with input as doc
}

test_command_asks if {
	d := decide(base)
	d.kind == "ask"
	d.reasons == [{"rule": "strict.approval-required", "message": "scope shell.exec:echo runs a command in the strict template", "scope": "shell.exec:echo"}]
}

test_network_asks if {
	d := decide(only("net.outbound", "high"))
	d.kind == "ask"
	d.reasons[0].message == "scope net.outbound:x reaches the network in the strict template"
}

test_high_and_critical_risk_ask if {
	decide(only("files.write", "high")).reasons[0].message == "scope files.write:x is high risk in the strict template"
	decide(only("secrets.read", "critical")).kind == "ask"
	decide(only("files.read", "high")).kind == "ask"
}

test_granted_medium_read_is_allowed if {
	d := decide(only("files.read", "medium"))
	d.kind == "allow"
	d.reasons[0].rule == "scope.granted"
}

test_unsigned_skill_denies if {
	d := decide(with_fields({"skill": {"name": "git-status", "signed": false}}))
	d.kind == "deny"
	d.reasons[0].rule == "strict.unsigned-skill"
}

test_signed_skill_with_granted_read_is_allowed if {
	decide(object.union(only("files.read", "medium"), {"skill": {"name": "git-status", "signed": true}})).kind == "allow"
}

test_no_scope_denies if {
	d := decide(with_fields({"requested": []}))
	d.kind == "deny"
	d.reasons == [{"rule": "strict.no-scope", "message": "the action requests no scope, so nothing explicitly grants it", "field": "requested"}]
}

test_medium_guardrail_signal_asks if {
	d := decide(object.union(only("files.read", "medium"), {"guardrails": [{"kind": "prompt-injection", "severity": "medium"}]}))
	d.kind == "ask"
	d.reasons[0].rule == "strict.guardrail-signal"
}

test_granted_tool_call_asks if {
	d := decide(tool_call)
	d.kind == "ask"
	d.reasons == [{
		"rule": "strict.approval-required",
		"message": "scope tool.call:session_status calls an agent tool outside the sandbox in the strict template",
		"scope": "tool.call:session_status",
	}]
}
