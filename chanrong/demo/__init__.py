"""Demo data: a deterministic pilot county (嘉善县) built by `chanrong demo`."""
