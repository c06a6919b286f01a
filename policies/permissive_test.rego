# The permissive template: granted scopes run; only critical ones ask. Shared helpers and
# semantics: common_test.rego.
package aegisclaw.permissive_test

import data.aegisclaw.common_test.base
import data.aegisclaw.common_test.only
import data.aegisclaw.common_test.tool_call
import data.aegisclaw.common_test.ungranted
import data.aegisclaw.common_test.with_fields

decide(doc) := d if {
	d := data.aegisclaw.permissive.decision with input as doc
}

test_granted_scopes_below_critical_are_allowed if {
	decide(base).kind == "allow"
	every kind in ["files.read", "files.write", "shell.exec", "net.outbound", "tool.call"] {
		decide(only(kind, "high")).kind == "allow"
	}
}

test_critical_risk_asks if {
	d := decide(only("secrets.read", "critical"))
	d.kind == "ask"
	d.reasons == [{"rule": "permissive.critical-risk", "message": "scope secrets.read:x is critical risk and needs approval", "scope": "secrets.read:x"}]
}

test_unsigned_skill_is_allowed if decide(with_fields({"skill": {"name": "git-status"}})).kind == "allow"

test_ungranted_scope_still_denies if {
	d := decide(with_fields({"requested": [ungranted("net.outbound:example.org", "net.outbound", "high")]}))
	d.kind == "deny"
	d.reasons == [{"rule": "scope.not-granted", "message": "scope net.outbound:example.org is not granted", "scope": "net.outbound:example.org"}]
}

test_granted_tool_call_is_allowed if {
	d := decide(tool_call)
	d.kind == "allow"
	d.reasons == [{"rule": "scope.granted", "message": "scope tool.call:session_status granted by tool.call:session_*", "scope": "tool.call:session_status"}]
}

test_critical_tool_call_asks if decide(only("tool.call", "critical")).reasons[0].rule == "permissive.critical-risk"
