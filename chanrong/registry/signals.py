"""What the registry tells higher apps (matching today; policy and risk later).
Sent after commit with the ids concerned; see chanrong.core.domain."""

from chanrong.core.domain import AfterCommitSignal

#: An enterprise's profile, tax grade, qualifications or list membership changed.
enterprises_changed = AfterCommitSignal("registry.enterprises_changed")
#: A list version (白名单 / 红名单 / 黑名单 …) was published.
list_versions_published = AfterCommitSignal("registry.list_versions_published")
