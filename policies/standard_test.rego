# The standard template: granted low/medium scopes run; high and critical ones and unsigned
# skills ask. Shared helpers and semantics: common_test.rego.
package aegisclaw.standard_test

import data.aegisclaw.common_test.base
import data.aegisclaw.common_test.only
import data.aegisclaw.common_test.tool_call
import data.aegisclaw.common_test.with_fields

decide(doc) := d if {
	d := data.aegisclaw.standard.decision with input as doc
}

test_granted_medium_command_is_allowed if {
	d := decide(base)
	d.kind == "allow"
	d.reasons == [{"rule": "scope.granted", "message": "scope shell.exec:echo granted by shell.exec", "scope": "shell.exec:echo"}]
}

test_granted_read_is_allowed if decide(only("files.read", "medium")).kind == "allow"

test_no_scope_is_allowed if {
	d := decide(with_fields({"requested": []}))
	d.kind == "allow"
	d.reasons[0].rule == "scope.none"
}

test_high_risk_asks if {
	d := decide(only("files.write", "high"))
	d.kind == "ask"
	d.reasons == [{"rule": "standard.high-risk", "message": "scope files.write:x is high risk and needs approval", "scope": "files.write:x"}]
}

test_critical_risk_asks if {
	d := decide(only("secrets.read", "critical"))
	d.kind == "ask"
	d.risk == "critical"
}

test_raised_command_risk_asks if decide(only("shell.exec", "high")).kind == "ask"

test_unsigned_skills_ask if {
	every skill in [{"name": "git-status", "signed": false}, {"name": "git-status"}, {"name": "git-status", "signed": "true"}] {
		d := decide(with_fields({"skill": skill}))
		d.kind == "ask"
		d.reasons[0].rule == "standard.unsigned-skill"
		d.reasons[0].field == "skill"
	}
}

test_signed_skill_is_allowed if decide(with_fields({"skill": {"name": "git-status", "signed": true}})).kind == "allow"

test_granted_tool_call_asks if {
	d := decide(tool_call)
	d.kind == "ask"
	d.reasons == [{"rule": "standard.high-risk", "message": "scope tool.call:session_status is high risk and needs approval", "scope": "tool.call:session_status"}]
}

test_tool_call_sent_as_low_risk_still_asks if decide(only("tool.call", "low")).kind == "ask"
