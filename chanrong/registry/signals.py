"""What the registry tells higher apps (matching today; policy and risk later).
Sent after commit with the ids concerned; see chanrong.core.domain."""

from chanrong.core.domain import AfterCommitSignal

#: An enterprise's profile, tax grade, qualifications or list membership changed.
enterprises_changed = AfterCommitSignal("registry.enterprises_changed")
#: A list version (白名单 / 红名单 / 黑名单 …) was published.
list_versions_published = AfterCommitSignal("registry.list_versions_published")
#: An enterprise's operating data (经营数据) was entered or imported; the risk
#: app's early-warning rules read it. Kept apart from `enterprises_changed` so
#: that a large import does not re-match every enterprise it touched.
operating_data_changed = AfterCommitSignal("registry.operating_data_changed")
#: Credit records (行政处罚, 司法判决, 纳税 …) were recorded or imported for these
#: enterprises; the risk app's event rules read them.
credit_records_changed = AfterCommitSignal("registry.credit_records_changed")
