"""Machine facts printed by the registry benchmarks (figures mean little without them)."""

from __future__ import annotations

import os
import platform
import sys


def machine_info(connection=None) -> list[str]:
    cpu = "?"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    memory = "?"
    try:
        with open("/proc/meminfo", encoding="utf-8") as handle:
            kib = int(handle.readline().split()[1])
            memory = f"{kib / 1024 / 1024:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    lines = [
        f"machine: {platform.machine()} {cpu}, {os.cpu_count()} cores, {memory} RAM",
        f"system:  {platform.platform()}; Python {sys.version.split()[0]}",
    ]
    try:
        load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
        lines.append(
            f"load average at start: {load} (other work on this machine slows the figures)"
        )
    except OSError:
        pass
    if connection is not None:
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            version = cursor.fetchone()[0]
            cursor.execute("SHOW shared_buffers")
            buffers = cursor.fetchone()[0]
        lines.append(f"database: PostgreSQL {version} (shared_buffers {buffers})")
    return lines
