"""Real HTTP servers on 127.0.0.1 that answer like the upstream APIs (recorded answers)."""
